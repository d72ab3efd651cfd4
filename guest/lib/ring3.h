/* Running guest code at CPL 3, for the checks of user/supervisor protection. */
#ifndef GUEST_RING3_H
#define GUEST_RING3_H

#include <stdint.h>

/* An interrupt gate with DPL 3: ring-3 code raises it to come back to ring 0. */
#define RING3_EXIT_VECTOR	0x30

/* Loads TR with a TSS whose ring-0 stack takes exceptions from CPL 3, and installs the exit gate. Idempotent. */
void ring3_init(void);

/*
 * Calls fn(arg) at CPL 3 and returns its result, back at CPL 0. Needs
 * ring3_init(). fn runs with IOPL 3 (it may print) and IF = 0 on a 16 KiB
 * stack of the runtime; the code, that stack and all the data fn touches
 * must be mapped user-accessible. Exceptions taken at CPL 3 go through the
 * usual handler, so ASM_TRY() works there too. Not reentrant.
 */
uintptr_t ring3_call(uintptr_t (*fn)(uintptr_t), uintptr_t arg);

#endif
