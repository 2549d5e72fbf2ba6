"""Prints one 'tests: N passed, N failed' line from meson's JUnit log (GoogleTest cases)."""
import sys
import xml.etree.ElementTree as ET

def main(path: str) -> int:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"tests: cannot read {path}: {e}")
        return 1
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    line = f"tests: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
