"""Prints 'tests: N passed, N failed' over meson's JUnit logs (GoogleTest cases)."""
import sys
import xml.etree.ElementTree as ET


def count(path: str) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths: list[str]) -> int:
    totals = [0, 0, 0]
    for path in paths:
        try:
            counts = count(path)
        except (OSError, ET.ParseError) as e:
            print(f"tests: cannot read {path}: {e}")
            return 1
        print(f"  {path}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped")
        totals = [t + c for t, c in zip(totals, counts)]
    passed, failed, skipped = totals
    line = f"tests: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and skipped == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
