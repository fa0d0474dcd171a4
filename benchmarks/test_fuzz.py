"""Fuzz the selected device's harness with empty and odd texts (docs/fuzzing.md).

Every text must end in a valid result or a typed error event about the text, and the harness must answer a ping
afterwards; a crash, hang or garbage line fails. Uses the run's harness (kokoro_session); writes no results.

    pytest benchmarks/test_fuzz.py --kokoro-fuzz-profile=ci|nightly [--device=swift|iphone]

Fuzzing is opt-in (a plain `pytest benchmarks/` skips it) and runs after the benchmark cases.
"""

import pytest
from hypothesis import given

from pytest_kokoro.devices.client import HarnessError, HarnessFault
from pytest_kokoro.fuzz.profiles import EVENT_TIMEOUT, error_problems, profile_settings, result_problems
from pytest_kokoro.fuzz.texts import fuzz_texts
from pytest_kokoro.plugin import RUN_KEY, fail
from pytest_kokoro.plugin.options import option
from pytest_kokoro.runner.session import UNAVAILABLE_CODES, CaseFailed

pytestmark = pytest.mark.kokoro_fuzz


def test_odd_texts_never_break_the_harness(kokoro_session, request):
    try:
        level = "swift_harness" if kokoro_session.settings.device_label == "swift" else "harness"
        fuzz_settings = profile_settings(option(request.config, "kokoro_fuzz_profile"), level)
    except ValueError as error:  # HYPOTHESIS_PROFILE or KOKORO_FUZZ_MAX_EXAMPLES (the option is checked up front)
        fail(str(error))
    first = request.config.stash[RUN_KEY].cases[0]  # the matrix's first variant and voice
    timeout = min(EVENT_TIMEOUT, kokoro_session.settings.timeout)
    try:  # loads the variant once, and finds out whether it can run here at all
        kokoro_session.run_unrecorded("Hello.", first.voice, first.variant, timeout=kokoro_session.settings.timeout)
    except HarnessError as error:
        if error.code in UNAVAILABLE_CODES:
            pytest.skip(f"{first.variant}/{first.voice}: {error.message}")
        fail(f"{first.variant}/{first.voice} cannot run a plain sentence: {error}")
    except (HarnessFault, CaseFailed) as error:
        fail(f"the harness fails on a plain sentence: {error}")

    answered = {"result": 0, "error": 0}

    @fuzz_settings
    @given(text=fuzz_texts())
    def odd_text_is_answered(text):
        fault = None
        try:
            outcome = kokoro_session.run_unrecorded(text, first.voice, first.variant, timeout=timeout)
        except HarnessFault as error:  # the session already replaced the harness for the next example
            fault = f"the harness crashed, hung or wrote garbage on {text!r}: {error}"
        except CaseFailed as error:  # the harness does not even start
            fault = str(error)
        except HarnessError as error:
            problems = error_problems(error, text)
            answered["error"] += 1
        else:
            problems = result_problems(outcome, text)
            answered["result"] += 1
        assert not fault, fault
        try:
            kokoro_session.harness().ping(timeout)
        except HarnessFault as error:
            kokoro_session.replace_harness(f"no pong after {text!r}: {error}")
            problems.append(f"the harness did not answer a ping afterwards: {error}")
        assert not problems, f"{first.variant}/{first.voice} on {text!r}:\n" + "\n".join(problems)

    odd_text_is_answered()
    print(f"{sum(answered.values())} texts through the {kokoro_session.settings.device_label} harness: "
          f"{answered['result']} results, {answered['error']} typed errors, a pong after each")
