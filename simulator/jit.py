"""Numba decorator for hot code.

Hot code allocates nothing, so it runs without Numba's reference-counting runtime: with it, every
call that passes the plan or shopper named tuple does an atomic incref/decref per array inside
(measured: 100x slower on the contact checks). Small functions are inlined by LLVM; Numba's own
IR-level inlining made the cold compile about 30% slower for no measurable speed.
"""

import numba as nb

hot = nb.njit(cache=True, _nrt=False)
