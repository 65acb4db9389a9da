"""The child companion: coping-skill exercises, mood check-ins, progress and topic replies.

Pure logic, no Rasa imports: `engine` runs any exercise described in
`data/content/exercises/<id>.yml`; `topics` composes replies to feelings and everyday
troubles; `checkins`, `progress` and `store` keep the child's own record. The thin Rasa
actions live in `actions/exercises.py` and `actions/companion.py`.
"""
