"""A name for this process when it holds a job's lease."""

import os
import platform
import uuid

OWNER = f"{platform.node()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
