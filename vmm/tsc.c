/* TSC frequency: PIT channel 2 in mode 0 gated through port 0x61, timed with RDTSC. */
#include "vmm/log.h"
#include "vmm/tsc.h"
#include "vmm/x86.h"

#define PIT_HZ			1193182ull
#define PIT_CH2_DATA		0x42
#define PIT_MODE		0x43
#define PIT_CH2_MODE0_LOHI	0xb0	/* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_61			0x61
#define PORT_61_GATE2		0x01
#define PORT_61_SPEAKER		0x02
#define PORT_61_OUT2		0x20
#define CALIBRATE_LATCH		59659u	/* PIT ticks: 50 ms */
/* Polls of port 0x61 before giving up on a PIT that never fires (about 0.1 s per million on hardware). */
#define CALIBRATE_MAX_POLLS	20000000u
#define FALLBACK_HZ		1000000000ull

static uint64_t cached_hz;

static uint64_t pit_calibrate(void)
{
	uint8_t p61 = inb(PORT_61);
	uint64_t start, end;
	uint32_t polls;

	/* Gate channel 2 on, speaker off; OUT2 goes high once the count reaches 0. */
	outb(PORT_61, (uint8_t)((p61 & ~PORT_61_SPEAKER) | PORT_61_GATE2));
	outb(PIT_MODE, PIT_CH2_MODE0_LOHI);
	outb(PIT_CH2_DATA, CALIBRATE_LATCH & 0xff);
	outb(PIT_CH2_DATA, CALIBRATE_LATCH >> 8);
	start = tsc_read();
	for (polls = 0; polls < CALIBRATE_MAX_POLLS; polls++)
		if (inb(PORT_61) & PORT_61_OUT2)
			break;
	end = tsc_read();
	outb(PORT_61, p61);
	if (polls == CALIBRATE_MAX_POLLS || end <= start)
		return 0;
	return (end - start) * PIT_HZ / CALIBRATE_LATCH;
}

uint64_t tsc_hz(void)
{
	const char *how = "PIT channel 2";

	if (cached_hz)
		return cached_hz;
	cached_hz = pit_calibrate();
	if (!cached_hz) {
		uint32_t mhz = cpuid(0, 0).eax >= 0x16 ? cpuid(0x16, 0).eax & 0xffff : 0;

		cached_hz = mhz ? mhz * 1000000ull : FALLBACK_HZ;
		how = mhz ? "no PIT answered; CPUID leaf 0x16" : "no PIT answered, no CPUID leaf 0x16: a guess";
	}
	log_info("vmm: tsc: %lu kHz (%s)\n", cached_hz / 1000, how);
	return cached_hz;
}
