from stream_processors.positions import REWIND_PATIENCE, Admission, PartitionCursor

LAND, SKIP, REWIND = Admission.LAND, Admission.SKIP, Admission.REWIND


def test_lands_in_order_and_skips_what_landed_already():
    cursor = PartitionCursor(next_offset=5)
    assert [cursor.admit(o, now=0) for o in (3, 4, 5, 6, 6, 7)] == [SKIP, SKIP, LAND, LAND, SKIP, LAND]
    assert cursor.next_offset == 8


def test_a_gap_rewinds_once_and_skips_stale_messages_until_the_re_read():
    cursor = PartitionCursor(next_offset=10)
    assert cursor.admit(14, now=0) is REWIND
    # messages fetched before the seek keep coming: skipped, no second rewind, no gap accepted
    assert [cursor.admit(o, now=1) for o in (15, 16, 17)] == [SKIP, SKIP, SKIP]
    # the re-read from offset 10 arrives
    assert [cursor.admit(o, now=2) for o in (10, 11, 12, 13, 14, 15)] == [LAND] * 6
    assert cursor.next_offset == 16


def test_offsets_that_never_come_are_given_up_after_the_patience():
    cursor = PartitionCursor(next_offset=10)
    assert cursor.admit(12, now=0) is REWIND
    assert cursor.admit(13, now=1) is SKIP
    assert cursor.admit(12, now=2) is SKIP  # the re-read: offsets 10 and 11 do not exist
    # past the patience 12, the lowest offset seen, becomes the next: 13 asks to re-read from 12
    assert cursor.admit(13, now=REWIND_PATIENCE + 1) is REWIND
    assert cursor.next_offset == 12
    assert [cursor.admit(o, now=REWIND_PATIENCE + 2) for o in (12, 13)] == [LAND, LAND]


def test_skip_to_accepts_a_retention_gap():
    cursor = PartitionCursor(next_offset=10)
    assert cursor.admit(50, now=0) is REWIND
    cursor.skip_to(40)
    assert cursor.admit(50, now=0) is REWIND  # still a gap above the earliest offset Kafka holds
    assert [cursor.admit(o, now=1) for o in (40, 41)] == [LAND, LAND]
