"""Numba decorators for hot code.

Hot code allocates nothing, so it runs without Numba's reference-counting runtime: with it, every
call that passes the plan or shopper named tuple does an atomic incref/decref per array inside
(measured: 100x slower on the contact checks). Helpers that take those named tuples are inlined
at Numba's IR level (`hot_inline`, measured 10-20% faster on days with touches); the small
scalar functions of `rng` are left to LLVM, which inlines them anyway.
"""

import numba as nb

hot = nb.njit(cache=True, _nrt=False, nogil=True)  # nogil: `workers` runs them on threads
hot_inline = nb.njit(cache=True, _nrt=False, inline="always")
