/* The 8254 PIT (ports 0x40-0x43) and port 0x61's channel 2 gate and output bits, timed from the VM clock. */
#ifndef DEVICES_PIT_H
#define DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/io_bus.h"

#define PIT_BASE	0x40
#define PIT_PORTS	4		/* counters 0-2, then the mode/command register */
#define PIT_PORT61	0x61
#define PIT_HZ		1193182ull	/* the PIT's input clock: 14.31818 MHz / 12 */
#define PIT_NO_DEADLINE	UINT64_MAX

/*
 * Time is the VM clock: a counter that runs at clock_hz (the guest's TSC
 * rate) and never goes back.  Counts are derived from it when read, as in
 * QEMU's i8254: nothing ticks in the background, so the model costs
 * nothing while the guest does not look, and the VMM asks
 * pit_next_deadline() when it must next look (the IRQ 0 edges).
 */
struct pit_channel {
	uint32_t count;		/* the reload value: 1-0x10000 (0 written means 0x10000) */
	uint64_t load_time;	/* VM clock when counting (re)started */
	uint8_t mode;		/* 0-5 */
	uint8_t rw_mode;	/* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;		/* recorded; counts stay binary, as in QEMU */
	bool gate;
	/* Writes of an LSB/MSB pair: the LSB waiting for its MSB. */
	bool write_msb_next;
	uint8_t write_lsb;
	/* Reads: a latched count (two bytes in rw_mode 3), the status byte, and the read flip-flop. */
	bool count_latched;
	uint16_t latched_count;
	uint8_t latched_bytes_left;	/* of latched_count still to read: 0-2 */
	bool status_latched;
	uint8_t status;
	bool read_msb_next;
	bool null_count;	/* a count written but not yet loaded: status bit 6 */
	/* Channel 0: periods whose end has raised IRQ 0 since load_time (one-shot: 0 or 1). */
	uint64_t irqs_done;
};

struct pit {
	struct io_device dev;		/* 0x40-0x43 */
	struct io_device port61;	/* 0x61 */
	struct pit_channel ch[3];
	uint64_t clock_hz;
	uint64_t (*now)(void *ctx);
	void (*raise_irq0)(void *ctx);	/* one edge on IRQ 0 */
	void *ctx;
	uint8_t speaker_data;		/* port 0x61 bit 1, kept for reads */
	uint64_t irq0_raised;		/* edges raised on IRQ 0 */
};

/*
 * QEMU's reset state: every channel mode 3 with the count 0x10000 (not
 * running an IRQ 0 timer until the guest programs channel 0), gates 0 and 1
 * high, channel 2's gate low (port 0x61 bit 0).  clock_hz > 0.
 */
void pit_init(struct pit *p, uint64_t clock_hz, uint64_t (*now)(void *ctx),
	      void (*raise_irq0)(void *ctx), void *ctx);

const struct io_device *pit_device(struct pit *p);
const struct io_device *pit_port61_device(struct pit *p);

/*
 * Raises IRQ 0 once if at least one channel-0 period ended since the last
 * call (periods that ended together coalesce into one edge, as they would
 * in an 8259A whose IRR bit is still set).  Call before entering the guest.
 */
void pit_update(struct pit *p);

/* The VM clock at which the next IRQ 0 edge is due, or PIT_NO_DEADLINE. */
uint64_t pit_next_deadline(const struct pit *p);

/* Channel n's current count as a latch would read it, and its OUT pin (for tests). */
uint16_t pit_read_count(struct pit *p, unsigned n);
bool pit_output(struct pit *p, unsigned n);

/* Clock conversions, exact to the tick without 128-bit division: ticks of `hz` in `cycles` of `clock_hz`, and back (rounded up). */
uint64_t pit_cycles_to_ticks(uint64_t cycles, uint64_t clock_hz, uint64_t hz);
uint64_t pit_ticks_to_cycles(uint64_t ticks, uint64_t clock_hz, uint64_t hz);

#endif
