/* The local APIC in xAPIC mode: registers, priority, EOI, self-IPIs, the one-shot/periodic timer and IA32_APIC_BASE. */
#include <stddef.h>

#include "devices/lapic.h"
#include "devices/pit.h"

/* Writable bits of each register (the rest read as 0, or as the SDM fixes them). */
#define LVT_TIMER_BITS	0x300ffu	/* vector, mask, periodic (bit 18, TSC-deadline, is hidden) */
#define LVT_LOCAL_BITS	0x107ffu	/* thermal, perf: vector, delivery mode, mask */
#define LVT_LINT_BITS	0x1a7ffu	/* vector, delivery mode, polarity, trigger, mask (remote IRR is read-only) */
#define LVT_ERROR_BITS	0x100ffu	/* vector, mask */
#define ICR_LO_BITS	0xcdfffu	/* vector, mode, dest mode, level, trigger, shorthand; delivery status reads 0 */
#define SVR_BITS	0x1ffu		/* vector, software enable; focus checking and EOI suppression absent */
#define DIV_BITS	0xbu

#define ICR_DEST_LOGICAL	(1u << 11)
#define ICR_SHORTHAND(icr)	(((icr) >> 18) & 3u)
#define SHORTHAND_NONE		0u
#define SHORTHAND_SELF		1u
#define SHORTHAND_ALL		2u
#define SHORTHAND_OTHERS	3u
#define DM_LOWEST		1u

static const uint32_t lvt_bits[LAPIC_LVTS] = {
	LVT_TIMER_BITS, LVT_LOCAL_BITS, LVT_LOCAL_BITS, LVT_LINT_BITS, LVT_LINT_BITS, LVT_ERROR_BITS,
};

static void set_bit256(uint32_t *v, unsigned n)
{
	v[n / 32] |= 1u << (n % 32);
}

static void clear_bit256(uint32_t *v, unsigned n)
{
	v[n / 32] &= ~(1u << (n % 32));
}

/* The highest set bit of a 256-bit register, or -1. */
static int highest256(const uint32_t *v)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static uint32_t lvt_vector(uint32_t lvt)
{
	return lvt & 0xff;
}

static uint32_t delivery_mode(uint32_t reg)
{
	return (reg >> 8) & 7;
}

static bool globally_enabled(const struct lapic *l)
{
	return l->base_msr & LAPIC_BASE_ENABLE;
}

static bool software_enabled(const struct lapic *l)
{
	return l->svr & LAPIC_SVR_ENABLE;
}

bool lapic_enabled(const struct lapic *l)
{
	return globally_enabled(l) && software_enabled(l);
}

static void accept(struct lapic *l, uint8_t vector);

/* An error the APIC detects: kept for the next ESR write, and the error LVT's interrupt if unmasked. */
static void raise_error(struct lapic *l, uint32_t bit)
{
	uint32_t lvt = l->lvt[LAPIC_LVT_ERROR];

	l->esr_pending |= bit;
	/* An illegal error vector would raise another error: it is dropped instead. */
	if (!(lvt & LAPIC_LVT_MASKED) && lvt_vector(lvt) >= 16)
		accept(l, (uint8_t)lvt_vector(lvt));
}

/* A fixed, edge-triggered interrupt into IRR (TMR clear). */
static void accept(struct lapic *l, uint8_t vector)
{
	if (!globally_enabled(l))
		return;
	if (vector < 16) {
		raise_error(l, LAPIC_ESR_RECEIVE_ILLEGAL);
		return;
	}
	set_bit256(l->irr, vector);
	clear_bit256(l->tmr, vector);
}

void lapic_set_irq(struct lapic *l, uint8_t vector)
{
	accept(l, vector);
}

void lapic_accept_irq(struct lapic *l, uint8_t vector, bool level)
{
	accept(l, vector);
	if (level && vector >= 16 && globally_enabled(l))
		set_bit256(l->tmr, vector);
}

void lapic_set_eoi_hook(struct lapic *l, void (*fn)(void *ctx, uint8_t vector), void *ctx)
{
	l->eoi_level = fn;
	l->eoi_ctx = ctx;
}

/* Power-up register state (SDM 10.4.7.1), shared by reset and a global disable. */
static void reset_registers(struct lapic *l)
{
	unsigned i;

	l->id = 0;
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (i = 0; i < LAPIC_LVTS; i++)
		l->lvt[i] = LAPIC_LVT_MASKED;
	for (i = 0; i < 8; i++)
		l->irr[i] = l->isr[i] = l->tmr[i] = 0;
	l->timer_init = 0;
	l->timer_div_conf = 0;
	l->timer_start = 0;
	l->timer_fired = 0;
}

static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size);
static void lapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

void lapic_init(struct lapic *l, uint64_t clock_hz, uint64_t (*now)(void *ctx), void *ctx)
{
	l->dev.name = "lapic";
	l->dev.base = LAPIC_DEFAULT_BASE;
	l->dev.size = LAPIC_SIZE;
	l->dev.opaque = l;
	l->dev.read = lapic_mmio_read;
	l->dev.write = lapic_mmio_write;
	l->base_msr = LAPIC_DEFAULT_BASE | LAPIC_BASE_BSP | LAPIC_BASE_ENABLE;
	l->clock_hz = clock_hz;
	l->now = now;
	l->ctx = ctx;
	l->timer_irqs = l->self_ipis = l->ignored_ipis = 0;
	l->eoi_level = NULL;
	l->eoi_ctx = NULL;
	reset_registers(l);
	/* What QEMU (and a BIOS) leave on the BSP: the PIC's INTR passes through LINT0 as ExtINT. */
	l->lvt[LAPIC_LVT_LINT0] = LAPIC_DM_EXTINT << 8;
}

struct mmio_device *lapic_device(struct lapic *l)
{
	return &l->dev;
}

uint64_t lapic_base_msr(const struct lapic *l)
{
	return l->base_msr;
}

/*
 * EXTD (x2APIC) gives #GP while x2APIC is hidden in CPUID, as do reserved
 * bits and bits at or above MAXPHYADDR.  Moving the APIC elsewhere is
 * refused with #GP too (no guest of ours or of QEMU's test suites does it,
 * and a move over RAM would need the memslots to give way).  BSP is
 * read-only.  Clearing the enable bit puts the APIC in its power-up state
 * (pending and in-service interrupts dropped, timer stopped), as the SDM
 * describes; setting it again starts from there.
 */
bool lapic_write_base_msr(struct lapic *l, uint64_t value, unsigned maxphyaddr)
{
	uint64_t addr_mask = ((1ull << maxphyaddr) - 1) & ~0xfffull;

	if (value & ~(addr_mask | LAPIC_BASE_ENABLE | LAPIC_BASE_BSP))
		return false;
	if ((value & addr_mask) != (l->base_msr & addr_mask))
		return false;
	if (!(value & LAPIC_BASE_ENABLE) && globally_enabled(l)) {
		uint32_t id = l->id;

		reset_registers(l);
		l->id = id;	/* the APIC ID is the CPU's, not lost */
	}
	l->base_msr = (l->base_msr & ~LAPIC_BASE_ENABLE) | (value & LAPIC_BASE_ENABLE);
	return true;
}

uint8_t lapic_tpr(const struct lapic *l)
{
	return (uint8_t)l->tpr;
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	l->tpr = tpr;
}

uint8_t lapic_ppr(const struct lapic *l)
{
	int isrv = highest256(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (uint8_t)((l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class);
}

int lapic_pending_vector(const struct lapic *l)
{
	int v;

	if (!lapic_enabled(l))
		return -1;
	v = highest256(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (lapic_ppr(l) & 0xf0u))
		return -1;
	return v;
}

uint8_t lapic_ack(struct lapic *l)
{
	int v = highest256(l->irr);

	if (v < 0)
		return (uint8_t)(l->svr & 0xff);	/* the spurious vector, as a real INTA with nothing left */
	clear_bit256(l->irr, (unsigned)v);
	set_bit256(l->isr, (unsigned)v);
	return (uint8_t)v;
}

bool lapic_accepts_pic(const struct lapic *l)
{
	uint32_t lint0 = l->lvt[LAPIC_LVT_LINT0];

	if (!lapic_enabled(l))
		return true;
	return !(lint0 & LAPIC_LVT_MASKED) && delivery_mode(lint0) == LAPIC_DM_EXTINT;
}

/* ---- Timer ---- */

/* The divide configuration register's divisor: bits 3,1:0 = 111b divide by 1, else 2^(value + 1). */
static uint64_t timer_divisor(const struct lapic *l)
{
	uint32_t v = ((l->timer_div_conf & 8) >> 1) | (l->timer_div_conf & 3);

	return v == 7 ? 1 : 2ull << v;
}

static bool timer_periodic(const struct lapic *l)
{
	return l->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_PERIODIC;
}

/* Timer ticks (bus cycles after the divider) since the count was loaded. */
static uint64_t timer_elapsed(const struct lapic *l)
{
	uint64_t now = l->now(l->ctx);

	if (now <= l->timer_start)
		return 0;
	return pit_cycles_to_ticks(now - l->timer_start, l->clock_hz, LAPIC_BUS_HZ) / timer_divisor(l);
}

static uint32_t timer_current(const struct lapic *l)
{
	uint64_t d;

	if (!l->timer_init)
		return 0;
	d = timer_elapsed(l);
	if (timer_periodic(l))
		return (uint32_t)(l->timer_init - d % l->timer_init);
	return d >= l->timer_init ? 0 : (uint32_t)(l->timer_init - d);
}

void lapic_update(struct lapic *l)
{
	uint64_t periods;
	uint32_t lvt = l->lvt[LAPIC_LVT_TIMER];

	if (!l->timer_init)
		return;
	periods = timer_elapsed(l) / l->timer_init;
	if (!timer_periodic(l) && periods > 1)
		periods = 1;
	if (periods <= l->timer_fired)
		return;
	/* Periods that ended together coalesce into one IRR bit, as they would on hardware. */
	l->timer_fired = periods;
	if (!(lvt & LAPIC_LVT_MASKED)) {
		accept(l, (uint8_t)lvt_vector(lvt));
		l->timer_irqs++;
	}
}

uint64_t lapic_next_deadline(const struct lapic *l)
{
	uint64_t ticks;

	/* A masked timer wakes nobody: HLT must not count on it. */
	if (!l->timer_init || (l->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_MASKED) || !globally_enabled(l))
		return LAPIC_NO_DEADLINE;
	if (!timer_periodic(l) && l->timer_fired)
		return LAPIC_NO_DEADLINE;
	ticks = (l->timer_fired + 1) * l->timer_init * timer_divisor(l);
	return l->timer_start + pit_ticks_to_cycles(ticks, l->clock_hz, LAPIC_BUS_HZ);
}

/* Restarts counting from value (0 stops the timer), as a write of the initial count does. */
static void timer_load(struct lapic *l, uint32_t value)
{
	l->timer_init = value;
	l->timer_start = l->now(l->ctx);
	l->timer_fired = 0;
}

/* ---- ICR ---- */

bool lapic_match_destination(const struct lapic *l, uint8_t dest, bool logical)
{
	if (logical) {
		/* Flat model (DFR 0xf...): bitwise; cluster model: same cluster and a common bit. */
		uint32_t ldr = l->ldr >> 24;

		if (dest == 0xff)
			return true;
		if ((l->dfr >> 28) == 0xf)
			return (ldr & dest) != 0;
		return (ldr >> 4) == ((uint32_t)dest >> 4) && (ldr & dest & 0xf) != 0;
	}
	return dest == 0xff || dest == (l->id >> 24);
}

/* Whether an IPI with this ICR reaches this (the only) APIC. */
static bool ipi_targets_self(const struct lapic *l)
{
	switch (ICR_SHORTHAND(l->icr_lo)) {
	case SHORTHAND_SELF:
	case SHORTHAND_ALL:
		return true;
	case SHORTHAND_OTHERS:
		return false;
	default:
		return lapic_match_destination(l, (uint8_t)(l->icr_hi >> 24), l->icr_lo & ICR_DEST_LOGICAL);
	}
}

/*
 * An ICR low write sends the IPI at once (delivery status never reads 1).
 * Only one CPU exists: fixed (and lowest-priority) IPIs that reach it are
 * accepted into IRR; everything else (INIT and start-up IPIs, which can
 * only be meant for CPUs that are absent, NMI, SMI) is counted and ignored.
 */
static void send_ipi(struct lapic *l)
{
	uint32_t mode = delivery_mode(l->icr_lo), vector = l->icr_lo & 0xff;

	if (mode == LAPIC_DM_FIXED || mode == DM_LOWEST) {
		if (vector < 16) {
			raise_error(l, LAPIC_ESR_SEND_ILLEGAL);
			return;
		}
		if (ipi_targets_self(l)) {
			accept(l, (uint8_t)vector);
			l->self_ipis++;
			return;
		}
	}
	l->ignored_ipis++;
}

/* ---- Registers ---- */

static bool lvt_index(uint32_t offset, unsigned *i)
{
	if (offset < LAPIC_REG_LVT_TIMER || offset > LAPIC_REG_LVT_ERROR)
		return false;
	*i = (offset - LAPIC_REG_LVT_TIMER) >> 4;
	return true;
}

uint32_t lapic_read_reg(struct lapic *l, uint32_t offset)
{
	unsigned i;

	if (offset >= LAPIC_REG_ISR && offset < LAPIC_REG_ISR + 0x80)
		return l->isr[(offset - LAPIC_REG_ISR) >> 4];
	if (offset >= LAPIC_REG_TMR && offset < LAPIC_REG_TMR + 0x80)
		return l->tmr[(offset - LAPIC_REG_TMR) >> 4];
	if (offset >= LAPIC_REG_IRR && offset < LAPIC_REG_IRR + 0x80)
		return l->irr[(offset - LAPIC_REG_IRR) >> 4];
	if (lvt_index(offset, &i))
		return l->lvt[i];
	switch (offset) {
	case LAPIC_REG_ID:
		return l->id;
	case LAPIC_REG_VERSION:
		return LAPIC_VERSION;
	case LAPIC_REG_TPR:
		return l->tpr;
	case LAPIC_REG_APR:
	case LAPIC_REG_RRD:
	case LAPIC_REG_EOI:
		return 0;
	case LAPIC_REG_PPR:
		return lapic_ppr(l);
	case LAPIC_REG_LDR:
		return l->ldr;
	case LAPIC_REG_DFR:
		return l->dfr;
	case LAPIC_REG_SVR:
		return l->svr;
	case LAPIC_REG_ESR:
		return l->esr;
	case LAPIC_REG_ICR_LO:
		return l->icr_lo;
	case LAPIC_REG_ICR_HI:
		return l->icr_hi;
	case LAPIC_REG_TIMER_INIT:
		return l->timer_init;
	case LAPIC_REG_TIMER_CUR:
		return timer_current(l);
	case LAPIC_REG_TIMER_DIV:
		return l->timer_div_conf;
	default:
		raise_error(l, LAPIC_ESR_ILLEGAL_REGISTER);
		return 0;
	}
}

void lapic_write_reg(struct lapic *l, uint32_t offset, uint32_t value)
{
	unsigned i;

	if (lvt_index(offset, &i)) {
		value &= lvt_bits[i];
		/* Software-disabled: the mask bits stay set (SDM 10.4.7.2). */
		if (!software_enabled(l))
			value |= LAPIC_LVT_MASKED;
		l->lvt[i] = value;
		return;
	}
	switch (offset) {
	case LAPIC_REG_ID:
		l->id = value & 0xff000000u;
		break;
	case LAPIC_REG_TPR:
		l->tpr = value & 0xff;
		break;
	case LAPIC_REG_EOI: {
		int v = highest256(l->isr);

		/*
		 * EOI ends the highest-priority interrupt in service; with none,
		 * nothing happens.  A level-triggered one (TMR) is also ended at
		 * the I/O APIC, which may send it again at once if its line is
		 * still high: ISR is cleared first so that it can be accepted.
		 */
		if (v >= 0) {
			clear_bit256(l->isr, (unsigned)v);
			if ((l->tmr[v / 32] & (1u << (v % 32))) && l->eoi_level)
				l->eoi_level(l->eoi_ctx, (uint8_t)v);
		}
		break;
	}
	case LAPIC_REG_LDR:
		l->ldr = value & 0xff000000u;
		break;
	case LAPIC_REG_DFR:
		l->dfr = value | 0x0fffffffu;
		break;
	case LAPIC_REG_SVR:
		l->svr = value & SVR_BITS;
		if (!software_enabled(l))
			for (i = 0; i < LAPIC_LVTS; i++)
				l->lvt[i] |= LAPIC_LVT_MASKED;
		break;
	case LAPIC_REG_ESR:
		/* A write latches the errors seen since the last one (SDM 10.5.3). */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case LAPIC_REG_ICR_LO:
		l->icr_lo = value & ICR_LO_BITS;
		send_ipi(l);
		break;
	case LAPIC_REG_ICR_HI:
		l->icr_hi = value & 0xff000000u;
		break;
	case LAPIC_REG_TIMER_INIT:
		timer_load(l, value);
		break;
	case LAPIC_REG_TIMER_DIV:
		l->timer_div_conf = value & DIV_BITS;
		break;
	case LAPIC_REG_VERSION:
	case LAPIC_REG_APR:
	case LAPIC_REG_PPR:
	case LAPIC_REG_RRD:
	case LAPIC_REG_TIMER_CUR:
		break;	/* read-only: writes ignored */
	default:
		if (!(offset >= LAPIC_REG_ISR && offset < LAPIC_REG_IRR + 0x80))
			raise_error(l, LAPIC_ESR_ILLEGAL_REGISTER);
		break;
	}
}

/*
 * Registers are 32 bits wide at 16-byte-aligned offsets.  A read of any
 * size sees the bytes of the register it falls in (bytes 4-15 of each slot
 * read 0); only a write of 4 or more bytes starting at a register's offset
 * reaches it (its low 32 bits), as in QEMU: other writes are dropped.
 */
static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct lapic *l = opaque;
	unsigned byte = offset & 0xf;
	uint64_t reg;

	if (byte >= 4)
		return 0;
	reg = lapic_read_reg(l, (uint32_t)(offset & ~0xfull));
	(void)size;	/* the bus masks the result to the access size */
	return reg >> (8 * byte);
}

static void lapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct lapic *l = opaque;

	if ((offset & 0xf) || size < 4)
		return;
	lapic_write_reg(l, (uint32_t)offset, (uint32_t)value);
}
