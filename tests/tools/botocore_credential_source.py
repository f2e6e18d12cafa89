#!/usr/bin/env python3
"""Prints which credential source botocore picks in the current environment.

Used by src/aws/credentials_botocore_test.cc to compare spotkeeper's credential
chain with botocore's. Prints one line: the `method` of the credentials
botocore resolved ("env", "shared-credentials-file", "config-file",
"container-role", "iam-role", ...) or "none" when it found none.

Exit status: 0 when a line was printed, 2 when botocore cannot be imported,
3 when botocore failed while resolving (the error is printed on stderr and
stdout says "error: ...").
"""

import sys


def main() -> int:
    try:
        import botocore.session
    except ImportError as e:  # pragma: no cover - environment problem
        print(f"error: botocore is not importable by {sys.executable}: {e}")
        print(f"botocore is not importable by {sys.executable}: {e}", file=sys.stderr)
        return 2
    session = botocore.session.Session()  # reads os.environ and HOME
    try:
        credentials = session.get_credentials()
    except Exception as e:  # noqa: BLE001 - report any resolution failure
        print(f"error: {type(e).__name__}: {e}")
        print(f"botocore failed to resolve credentials: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    print(credentials.method if credentials is not None else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
