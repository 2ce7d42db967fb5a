"""The happy path through the service, the real SDK and the sandbox."""

from plivo_otp_app.errors import CodeRejected


def test_start_then_check_verifies_once(service, sandbox):
    started = service.start("(415) 555-2671", "US", "sms", "203.0.113.5")
    assert started.e164 == "+14155552671"
    code = sandbox.code_for("+14155552671")
    wrong = "000000" if code != "000000" else "111111"
    try:
        service.check(started.verification_id, wrong, "203.0.113.5")
        raise AssertionError("a wrong code was accepted")
    except CodeRejected as exc:
        assert exc.attempts_left == 4
    checked = service.check(started.verification_id, code, "203.0.113.5")
    assert checked.e164 == "+14155552671"
