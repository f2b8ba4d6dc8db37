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
