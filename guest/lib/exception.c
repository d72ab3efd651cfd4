/* Exception dispatch, 32- and 64-bit alike: report unexpected exceptions, resume expected ones at an ASM_TRY() label. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

void exception_dispatch(struct exc_frame *f);

volatile struct exception_record exception_last = { .vector = NO_EXCEPTION };
volatile uint32_t exception_resume_eip;
static volatile int expected_vector = NO_EXCEPTION;
static volatile int caught_vector = NO_EXCEPTION;

void expect_exception(int vector)
{
	caught_vector = NO_EXCEPTION;
	exception_resume_eip = 0;
	expected_vector = vector;
}

int exception_seen(void)
{
	int v = caught_vector;

	expected_vector = NO_EXCEPTION;
	exception_resume_eip = 0;
	caught_vector = NO_EXCEPTION;
	return v;
}

/* One shot: a second fault of the same kind before the next expect_exception() is unexpected. */
static bool try_resume(struct exc_frame *f)
{
	if (exception_resume_eip == 0 || (int)f->vector != expected_vector)
		return false;
	f->ip = exception_resume_eip;
	if (f->vector == EXC_DB)
		f->flags &= ~(uintptr_t)EFLAGS_TF;	/* the step was the test's; the resumed code runs normally */
	exception_resume_eip = 0;
	expected_vector = NO_EXCEPTION;
	caught_vector = f->vector;
	return true;
}

/* CR2 is read before anything else here can fault and overwrite it; DR6 is read for #DB, the only vector that sets it. */
void exception_dispatch(struct exc_frame *f)
{
	exception_last.vector = f->vector;
	exception_last.error_code = f->error_code;
	exception_last.eip = f->ip;
	exception_last.cr2 = f->vector == EXC_PF ? read_cr2() : 0;
	exception_last.dr6 = f->vector == EXC_DB ? read_dr6() : 0;
	if (try_resume(f))
		return;
	printf("guest: unexpected exception %u at 0x%08lx, error code 0x%x",
	       (uint32_t)f->vector, (unsigned long)f->ip, (uint32_t)f->error_code);
	if (f->vector == EXC_PF)
		printf(", cr2 0x%08lx", (unsigned long)exception_last.cr2);
	printf("\n");
	guest_exit(EXIT_EXCEPTION);
}
