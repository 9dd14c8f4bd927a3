//! Unit tests of [`Level`]'s faces (colour, hex, mark, label) and of `{current}` for a record
//! without one: what every format builds its status from.

use super::*;

#[test]
fn each_level_has_its_own_colour_mark_and_label() {
    assert_eq!(Level::Failure.rgb(), 0xD7_00_00);
    assert_eq!(Level::Success.rgb(), 0x2E_B8_86);
    assert_eq!(Level::Info.rgb(), 0x00_78_D7);
    assert_eq!(Level::Failure.hex(), "D70000");
    assert_eq!(Level::Success.hex(), "2EB886");
    assert_eq!(Level::Info.hex(), "0078D7");
    assert_eq!(Level::Failure.mark(), "✗ ");
    assert_eq!(Level::Success.mark(), "✓ ");
    assert_eq!(Level::Info.mark(), "");
    assert_eq!(Level::Failure.label(), "✗ failure");
    assert_eq!(Level::Success.label(), "✓ success");
    assert_eq!(Level::Info.label(), "info");
}

#[test]
fn current_is_none_only_for_a_record_without_one() {
    let mut r = Record::new("web");
    assert_eq!(field(&r, "current"), "none");
    r.set("current", "1.1");
    assert_eq!(field(&r, "current"), "1.1");
}
