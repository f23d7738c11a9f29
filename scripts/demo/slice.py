#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""slice.py NS CMD...: run CMD with an EEVDF slice of NS ns (6.12+), as
colod's beSchedSliceUs gives BE's threads; its threads inherit it.
levers.sh's slice-pod arrangement, without colod."""
import ctypes
import os
import platform
import struct
import sys

SYS_sched_setattr = {"x86_64": 314, "aarch64": 274}[platform.machine()]

ns = int(sys.argv[1])
# struct sched_attr (VER0): size, policy, flags, nice, priority, runtime, deadline, period
attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 0, 0, 0, 0, ns, 0, 0))
if ctypes.CDLL(None, use_errno=True).syscall(SYS_sched_setattr, 0, attr, 0):
	sys.exit("slice.py: sched_setattr: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])
