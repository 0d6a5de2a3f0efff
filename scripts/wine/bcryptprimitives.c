/* A stand-in for bcryptprimitives.dll, which Debian's wine 8.0 does not
 * have: Rust's standard library on Windows (since 1.78) takes random bytes
 * from its ProcessPrng, so without it even `egress.exe --version` fails to
 * load under wine (exit 53). This one asks advapi32's RtlGenRandom
 * (SystemFunction036), which wine has. Built by scripts/test with MinGW and
 * put in the tests' own wine prefix, never in a system's. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
