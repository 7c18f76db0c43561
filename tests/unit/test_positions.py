from stream_processors.positions import PartitionCursor


def test_offsets_below_the_cursor_landed_already():
    cursor = PartitionCursor(next_offset=5)
    assert [cursor.landed_already(o) for o in (3, 4, 5, 6)] == [True, True, False, False]


def test_the_next_offset_leaves_no_gap():
    cursor = PartitionCursor(next_offset=5)
    assert not cursor.gap_before(5)
    cursor.advance_past(5)
    assert cursor.next_offset == 6 and not cursor.gap_before(6)


def test_an_offset_past_the_next_names_the_missing_range():
    cursor = PartitionCursor(next_offset=10)
    assert list(cursor.gap_before(14)) == [10, 11, 12, 13]
    cursor.advance_past(14)
    assert cursor.next_offset == 15
