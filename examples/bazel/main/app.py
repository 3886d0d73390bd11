"""The example binary: prints a greeting and where its modules' code came from."""
import sys

import greeting
import greeting._version
import settings
import vendored.modern


def main():
    print(vendored.modern.shout(greeting.greet(sys.argv[1] if len(sys.argv) > 1 else settings.DEFAULT_NAME)))
    print("version", greeting._version.VERSION)
    for module in (greeting, greeting.hello, greeting._version, settings, vendored.modern):
        print("module", module.__name__, module.__file__, module.__cached__)


if __name__ == "__main__":
    main()
