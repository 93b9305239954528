# Runs a command under what systemd's RestrictAddressFamilies= installs: a seccomp filter on
# socket(2) that refuses every address family not named with EAFNOSUPPORT (x86_64, aarch64).
# deploy/test/systemd.test.ts runs the server so, with the unit's own list: this machine has no
# systemd as PID 1 to run the unit itself.
#   python3 restrict-families.py "AF_INET AF_INET6 AF_UNIX" node …
import ctypes
import os
import platform
import socket
import struct
import sys

families = [int(getattr(socket, f)) for f in sys.argv[1].split()]
command = sys.argv[2:]
# AUDIT_ARCH_* and the socket(2) syscall's number
arch, nr = {'x86_64': (0xC000003E, 41), 'aarch64': (0xC00000B7, 198)}[platform.machine()]
LD, JEQ, RET = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
ALLOW, REFUSE = 0x7FFF0000, 0x00050000 | 97  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO|EAFNOSUPPORT
n = len(families)
prog = [
    (LD, 0, 0, 4),  # seccomp_data.arch
    (JEQ, 0, n + 4, arch),  # another ABI: allow
    (LD, 0, 0, 0),  # seccomp_data.nr
    (JEQ, 0, n + 2, nr),  # not socket(2): allow
    (LD, 0, 0, 16),  # args[0], the family (low 32 bits)
    *[(JEQ, n - i, 0, f) for i, f in enumerate(families)],  # a family named: allow
    (RET, 0, 0, REFUSE),
    (RET, 0, 0, ALLOW),
]
code = ctypes.create_string_buffer(b''.join(struct.pack('HBBI', *p) for p in prog))


class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]


libc = ctypes.CDLL(None, use_errno=True)
# PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP with SECCOMP_MODE_FILTER; kept across exec.
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(Fprog(len(prog), ctypes.addressof(code))), 0, 0):
    sys.exit('seccomp: ' + os.strerror(ctypes.get_errno()))
os.execvp(command[0], command)
