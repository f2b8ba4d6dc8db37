import numpy as np
import pytest

from nlpkit.arguments import check_flag


@pytest.mark.parametrize("value", [True, False])
def test_a_flag_is_true_or_false(value):
    assert check_flag("allow_none", value) is value


@pytest.mark.parametrize(
    "value, said",
    [("no", "'no' (str)"), (1, "1 (int)"), (None, "None (NoneType)"), (np.True_, "(numpy.bool")],
)
def test_anything_else_is_a_type_error_naming_the_flag_and_the_type(value, said):
    # (a string such as "no" is true in Python: it would silently mean yes)
    with pytest.raises(TypeError, match=r"allow_none must be True or False, got .*") as refused:
        check_flag("allow_none", value)
    assert said in str(refused.value)


def test_a_count_is_a_whole_number_of_any_integer_type_a_wrong_type_a_type_error():
    import numpy as np

    from nlpkit.arguments import check_count
    from nlpkit.serve.limits import Limits

    assert check_count("k", np.int64(3)) == 3 and type(check_count("k", np.int64(3))) is int
    assert check_count("n_jobs", 0, zero="the machine's cores") == 0
    for value, error in [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match=r"^k must be a whole number, at least 1; got"):
            check_count("k", value)
    # One rule wherever a count is taken: the service's limits as predict's n_jobs.
    assert Limits(max_batch=np.int64(5)).max_batch == 5
    with pytest.raises(TypeError, match="max_batch must be a whole number"):
        Limits(max_batch=2.5)
