from config.logs import mask_text, mask_value


def test_personal_data_is_masked_by_key_and_inside_text() -> None:
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("street", "张江路88号") == "张***"
    assert mask_text("call 13812345678 or mail li.lei@example.com") == \
        "call 138****5678 or mail l***@example.com"
    assert mask_value("receiver", {"name": "张三", "city": "上海"}) == {"name": "张***", "city": "上海"}
