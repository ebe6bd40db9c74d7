"""Personal data as anyone without `pii:read` sees it, in responses, logs and exports."""

from __future__ import annotations

import pytest

from config.masking import is_resident_id, mask_text, mask_value

# GB 11643's own example number, and the same with its check digit changed
VALID_ID = "11010519491231002X"
WRONG_CHECK = "110105194912310021"


def test_personal_data_is_masked_by_key() -> None:
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("name", "王小二") == "王**"
    assert mask_value("name", "王") == "王*"
    assert mask_value("street", "张江路88号") == "张江****"
    assert mask_value("id_number", VALID_ID) == "110105********002X"
    assert mask_value("shipping_address", {"name": "张三", "city": "上海市", "phone": "+86 139 0000 1234"}) \
        == {"name": "张*", "city": "上海市", "phone": "139****1234"}


@pytest.mark.parametrize(("text", "masked"), [
    ("call 13812345678 or mail li.lei@example.com", "call 138****5678 or mail l***@example.com"),
    ("手机 186-1234-5678 收", "手机 186****5678 收"),
    ("mobile +86 139 0000 1234", "mobile 139****1234"),
    ("+86-137-6100-1234", "137****1234"),
    (f"身份证{VALID_ID}，谢谢", "身份证110105********002X，谢谢"),
    (f"订单号 {WRONG_CHECK}", f"订单号 {WRONG_CHECK}"),  # 18 digits with a wrong check digit: not an ID
    ("座机 023-63888888", "座机 023-63888888"),  # a landline is the shop's, not the customer's mobile
])
def test_numbers_and_emails_inside_free_text_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_a_resident_id_is_recognised_by_its_check_digit() -> None:
    assert is_resident_id(VALID_ID) and is_resident_id(VALID_ID.lower())
    assert not is_resident_id(WRONG_CHECK)
    assert not is_resident_id("1101051949123100")
