"""The exercise engine: complete runs, stop and resume, and every kind of off-path turn."""

from __future__ import annotations

import pytest

from bot.companion import content, engine
from bot.companion.engine import UserInput
from bot.companion.text import is_chinese
from tests.companion.walk import walk

MENU = [e["id"] for e in content.menu_exercises()]


def ex(exercise_id: str) -> dict:
    return content.exercise(exercise_id)


def say(exercise: dict, turn: engine.Turn, text: str, lang: str = "zh", intent: str = None,
        confidence: float = 0.0) -> engine.Turn:
    return engine.handle(exercise, turn.state, UserInput(text, intent, confidence), lang)


def texts(turn: engine.Turn) -> str:
    return " ".join(m.text for m in turn.messages)


def until(exercise: dict, kind: str, lang: str = "zh") -> engine.Turn:
    """Start `exercise` and answer cooperatively until a step of `kind` is asked."""
    turn = engine.start(exercise, lang)
    for _ in range(30):
        if turn.status != engine.ACTIVE:
            break
        if engine.current_kind(exercise, turn.state) == kind:
            return turn
        turn = say(exercise, turn, '/rate{"rating":"3"}' if engine.current_kind(
            exercise, turn.state) == "rating" else (turn.messages[-1].buttons or [
                {"payload": "好的答案"}])[0]["payload"], lang)
    raise AssertionError(f"no {kind} step in {exercise['id']}")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("exercise_id", MENU)
def test_each_exercise_runs_to_the_end_with_both_ratings(exercise_id: str, lang: str) -> None:
    messages, turn = walk(ex(exercise_id), lang)
    assert turn.status == engine.DONE
    assert turn.state["rating_before"] == 3 and turn.state["rating_after"] is not None
    assert messages and all(m.text for m in messages)
    for message in messages:
        assert is_chinese(message.text) == (lang == "zh"), message.text


def test_first_message_is_the_intro_and_the_rating_with_faces() -> None:
    turn = engine.start(ex("breathing"), "zh")
    assert "吹气球" in turn.messages[0].text
    faces = [b["title"] for b in turn.messages[-1].buttons]
    assert faces == ["😢", "🙁", "😐", "🙂", "😄"]
    assert turn.messages[-1].buttons[3]["payload"] == '/rate{"rating":"4"}'


@pytest.mark.parametrize("typed,score", [("😢", 1), ("2", 2), ("三", 3), ("还行", 3),
                                         ("挺开心的", 4), ("很开心", 5), ("not good", 2),
                                         ("great", 5), ("4分", 4)])
def test_the_rating_accepts_typed_digits_words_and_faces(typed: str, score: int) -> None:
    turn = say(ex("grounding"), engine.start(ex("grounding"), "zh"), typed)
    assert turn.state["rating_before"] == score
    assert turn.state["step"] == "see"


def test_a_number_out_of_range_gets_a_specific_nudge_and_the_faces_again() -> None:
    turn = say(ex("grounding"), engine.start(ex("grounding"), "zh"), "8")
    assert turn.state["step"] == engine.RATE_BEFORE
    assert "1到5" in texts(turn) and len(turn.messages[-1].buttons) == 5


def test_breathing_counts_each_breath_the_child_reports() -> None:
    breathing = ex("breathing")
    turn = until(breathing, "count")
    assert "第1个气球" in texts(turn)
    turn = say(breathing, turn, "好了")
    assert "第2个气球" in texts(turn)
    turn = say(breathing, turn, "嗯")  # anything that is not a control counts as a breath
    assert "第3个气球" in texts(turn)
    turn = say(breathing, turn, "吹完了")
    assert turn.state["step"] == "notice"


@pytest.mark.parametrize("word", ["停", "不想做了", "stop", "算了", "STOP!", "不想做这个了"])
def test_stop_words_stop_at_any_step_kindly(word: str) -> None:
    for exercise_id in ("breathing", "thought_detective", "making_friends"):
        exercise = ex(exercise_id)
        for kind in ("rating", "text", "choice", "count"):
            try:
                turn = until(exercise, kind)
            except AssertionError:
                continue
            stopped = say(exercise, turn, word)
            assert stopped.status == engine.STOPPED
            assert "继续" in texts(stopped) or "continue" in texts(stopped)
            assert engine.can_resume(stopped.state)


def test_stop_payload_and_goodbye_also_stop() -> None:
    thought = ex("thought_detective")
    turn = until(thought, "text")
    assert say(thought, turn, "/stop").status == engine.STOPPED
    bye = say(thought, turn, "拜拜")
    assert bye.status == engine.STOPPED and "拜拜" in texts(bye)


def test_a_normal_answer_that_mentions_stopping_is_still_an_answer() -> None:
    problem = ex("problem_solving")
    turn = until(problem, "text")
    for answer in ("作业不想做了怎么办", "停电了写不了作业", "I don't understand fractions"):
        following = say(problem, turn, answer)
        assert following.status == engine.ACTIVE
        assert following.state["answers"]["problem"]["text"] == answer


def test_resume_picks_up_at_the_same_step_with_answers_kept() -> None:
    problem = ex("problem_solving")
    turn = until(problem, "text")
    turn = say(problem, turn, "和同桌吵架了")
    stopped = say(problem, turn, "不想做了")
    resumed = engine.resume(problem, stopped.state, "zh")
    assert resumed.status == engine.ACTIVE
    assert resumed.state["step"] == "idea1"
    assert resumed.state["answers"]["problem"]["text"] == "和同桌吵架了"
    assert "第一个办法" in texts(resumed)


def test_dont_understand_re_explains_the_step_more_simply() -> None:
    breathing = ex("breathing")
    turn = until(breathing, "choice")
    again = say(breathing, turn, "听不懂")
    assert "把手放在肚子上就行" in texts(again)
    assert again.messages[-1].buttons  # the button is still there
    assert again.state["step"] == turn.state["step"]
    english = say(breathing, turn, "I don't understand", lang="en")
    assert "Just put a hand on your tummy" in texts(english)


def test_dont_know_in_a_text_step_gives_a_hint_then_moves_on() -> None:
    thought = ex("thought_detective")
    turn = until(thought, "text")
    hint = say(thought, turn, "不知道")
    assert "比如" in texts(hint) and hint.state["step"] == "what"
    skipped = say(thought, hint, "还是不知道")  # not an exact control: it is an answer
    assert skipped.state["step"] == "thought"
    hint = say(thought, turn, "不知道")
    skipped = say(thought, hint, "想不出来")
    assert skipped.state["step"] == "thought" and "what" not in skipped.state["answers"]


def test_a_question_gets_the_help_text_and_the_step_again() -> None:
    breathing = ex("breathing")
    turn = until(breathing, "count")
    answered = say(breathing, turn, "为什么要吹气球？")
    assert "心跳" in texts(answered)
    assert answered.state["count"] == 0 and "第1个气球" in texts(answered)


def test_a_change_of_topic_offers_to_pause_and_never_traps() -> None:
    anger = ex("anger_calm")
    turn = until(anger, "choice")
    offer = say(anger, turn, "我好想妈妈", intent="miss_parents", confidence=0.9)
    assert offer.state["pending"] == engine.PAUSE_OFFER
    assert [b["payload"] for b in offer.messages[-1].buttons] == ["/stop", "/resume"]
    back = say(anger, offer, "/resume")
    assert back.status == engine.ACTIVE and back.state["step"] == turn.state["step"]
    assert back.messages[-1].buttons
    paused = say(anger, offer, "/stop")
    assert paused.status == engine.STOPPED
    assert paused.handoff_intent == "miss_parents" and paused.handoff_text == "我好想妈妈"
    talking = say(anger, offer, "妈妈很久没打电话了", intent="miss_parents", confidence=0.8)
    assert talking.status == engine.STOPPED and talking.handoff_intent == "miss_parents"


def test_a_free_text_step_never_mistakes_an_answer_for_a_topic_change() -> None:
    message = ex("message_to_parents")
    turn = until(message, "text")
    answered = say(message, turn, "妈妈我好想你", intent="miss_parents", confidence=0.99)
    assert answered.status == engine.ACTIVE
    assert answered.state["answers"]["message"]["text"] == "妈妈我好想你"


def test_unmatched_replies_get_a_nudge_then_the_engine_moves_on() -> None:
    breathing = ex("breathing")
    turn = until(breathing, "choice")
    for _ in range(engine._max_tries() - 1):
        turn = say(breathing, turn, "asdf")
        assert turn.state["step"] == "ready" and turn.messages[-1].buttons
    turn = say(breathing, turn, "asdf")
    assert turn.state["step"] == "rounds"


def test_typed_words_and_numbers_pick_options() -> None:
    kind = ex("bored_ideas")
    turn = until(kind, "choice")
    assert say(kind, turn, "我想画画").state["step"] == "make_ideas"
    assert say(kind, turn, "3").state["step"] == "think_ideas"
    assert say(kind, turn, "with someone", lang="en").state["step"] == "together_ideas"


def test_english_in_a_chinese_exercise_continues_in_english() -> None:
    grounding = ex("grounding")
    turn = until(grounding, "text")
    assert is_chinese(texts(turn))
    switched = say(grounding, turn, "a door, a lamp and my bag", lang="en")
    assert not is_chinese(texts(switched)) and "touch" in texts(switched)
    back = say(grounding, switched, "桌子和衣服", lang="zh")
    assert is_chinese(texts(back))


def test_problem_solving_offers_the_childs_own_ideas_and_schedules_a_check_back() -> None:
    problem = ex("problem_solving")
    turn = until(problem, "text")
    for answer in ("作业太多", "先做简单的", "问老师", "不知道"):
        turn = say(problem, turn, answer)
    turn = say(problem, turn, "想不出")  # the third idea is skipped
    titles = [b["title"] for b in turn.messages[-1].buttons]
    assert titles == ["① 先做简单的", "② 问老师"]
    turn = say(problem, turn, "② 问老师")
    assert turn.state["answers"]["choice"] == {"option": "idea2"}
    turn = say(problem, turn, "明天早上问王老师")
    turn = say(problem, turn, "老师")
    assert "明天早上问王老师" in texts(turn)
    turn = say(problem, turn, "😄")
    assert turn.status == engine.DONE
    assert engine.follow_up_hours(problem, turn.state) == 6


def test_plan_check_can_chain_into_a_new_problem_solving_run() -> None:
    check = ex("plan_check")
    turn = engine.start(check, "zh", {"plan": {"text": "问老师"}})
    assert "问老师" in texts(turn) and turn.state["rating_before"] is None
    turn = say(check, turn, "没做成")
    assert turn.state["step"] == "again"
    chained = say(check, turn, "好")
    assert chained.switch_to == "problem_solving"


def test_a_menu_button_mid_exercise_switches_exercise() -> None:
    breathing = ex("breathing")
    turn = until(breathing, "count")
    switched = say(breathing, turn, '/request_exercise{"exercise":"grounding"}')
    assert switched.status == engine.STOPPED and switched.switch_to == "grounding"
    same = say(breathing, turn, '/request_exercise{"exercise":"breathing"}')
    assert same.status == engine.ACTIVE and same.switch_to is None


def test_handling_a_finished_exercise_is_harmless() -> None:
    _, done = walk(ex("bedtime_calm"), "zh")
    again = engine.handle(ex("bedtime_calm"), done.state, UserInput("好"), "zh")
    assert again.status == engine.DONE and again.messages == []
    assert not engine.can_resume(done.state)


def test_a_lower_rating_after_is_met_kindly_with_someone_to_talk_to() -> None:
    feelings = ex("feelings")
    _, turn = walk(feelings, "zh")
    state = dict(turn.state, status=engine.ACTIVE, step=engine.RATE_AFTER, rating_after=None,
                 rating_before=4)
    low = engine.handle(feelings, state, UserInput("😢"), "zh")
    assert "诚实" in texts(low) and "社工" in texts(low)
    assert low.state["rating_after"] == 1


def test_a_button_or_a_clear_command_in_a_free_text_step_offers_to_pause() -> None:
    thought = ex("thought_detective")
    turn = until(thought, "text")
    tapped = say(thought, turn, "/mood_checkin")
    assert tapped.state["pending"] == engine.PAUSE_OFFER
    typed = say(thought, turn, "打卡心情", intent="mood_checkin", confidence=0.97)
    assert typed.state["pending"] == engine.PAUSE_OFFER
    paused = say(thought, typed, "/stop")
    assert paused.status == engine.STOPPED and paused.handoff_intent == "mood_checkin"
    # A feeling is an answer here, however sure the classifier is.
    feeling = say(thought, turn, "我很难过", intent="feel_sad", confidence=0.99)
    assert feeling.state["answers"]["situation"]["text"] == "我很难过"
    unsure = say(thought, turn, "打卡心情", intent="mood_checkin", confidence=0.5)
    assert unsure.state["answers"]["situation"]["text"] == "打卡心情"
