/* The local APIC in xAPIC mode: registers on the MMIO bus, priority and EOI, self-IPIs, the timer, IA32_APIC_BASE. */
#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/mmio_bus.h"

#define LAPIC_DEFAULT_BASE	0xfee00000ull
#define LAPIC_SIZE		0x1000ull
/* QEMU's version register: version 0x14, max LVT entry 5 (six LVTs), no EOI-broadcast suppression. */
#define LAPIC_VERSION		0x50014u
/* The timer's input clock before the divider: QEMU's 1 GHz bus (APIC_BUS_CYCLE_NS = 1). */
#define LAPIC_BUS_HZ		1000000000ull
#define LAPIC_NO_DEADLINE	UINT64_MAX

/* Register offsets (SDM vol. 3 table 10-1). */
#define LAPIC_REG_ID		0x020
#define LAPIC_REG_VERSION	0x030
#define LAPIC_REG_TPR		0x080
#define LAPIC_REG_APR		0x090
#define LAPIC_REG_PPR		0x0a0
#define LAPIC_REG_EOI		0x0b0
#define LAPIC_REG_RRD		0x0c0
#define LAPIC_REG_LDR		0x0d0
#define LAPIC_REG_DFR		0x0e0
#define LAPIC_REG_SVR		0x0f0
#define LAPIC_REG_ISR		0x100	/* 8 registers, 0x10 apart */
#define LAPIC_REG_TMR		0x180
#define LAPIC_REG_IRR		0x200
#define LAPIC_REG_ESR		0x280
#define LAPIC_REG_ICR_LO	0x300
#define LAPIC_REG_ICR_HI	0x310
#define LAPIC_REG_LVT_TIMER	0x320
#define LAPIC_REG_LVT_THERMAL	0x330
#define LAPIC_REG_LVT_PERF	0x340
#define LAPIC_REG_LVT_LINT0	0x350
#define LAPIC_REG_LVT_LINT1	0x360
#define LAPIC_REG_LVT_ERROR	0x370
#define LAPIC_REG_TIMER_INIT	0x380
#define LAPIC_REG_TIMER_CUR	0x390
#define LAPIC_REG_TIMER_DIV	0x3e0

/* LVT indexes, in register order. */
#define LAPIC_LVT_TIMER		0
#define LAPIC_LVT_THERMAL	1
#define LAPIC_LVT_PERF		2
#define LAPIC_LVT_LINT0		3
#define LAPIC_LVT_LINT1		4
#define LAPIC_LVT_ERROR		5
#define LAPIC_LVTS		6

#define LAPIC_LVT_MASKED	(1u << 16)
#define LAPIC_LVT_PERIODIC	(1u << 17)
#define LAPIC_DM_FIXED		0u
#define LAPIC_DM_NMI		4u
#define LAPIC_DM_INIT		5u
#define LAPIC_DM_STARTUP	6u
#define LAPIC_DM_EXTINT		7u
#define LAPIC_SVR_ENABLE	(1u << 8)

/* ESR bits the model raises. */
#define LAPIC_ESR_SEND_ILLEGAL		(1u << 5)
#define LAPIC_ESR_RECEIVE_ILLEGAL	(1u << 6)
#define LAPIC_ESR_ILLEGAL_REGISTER	(1u << 7)

/* IA32_APIC_BASE bits. */
#define LAPIC_BASE_BSP		(1ull << 8)
#define LAPIC_BASE_EXTD		(1ull << 10)
#define LAPIC_BASE_ENABLE	(1ull << 11)

/*
 * One xAPIC.  The 256-bit IRR/ISR/TMR are 8 words, word i holding vectors
 * 32i..32i+31.  Invariants: IRR and ISR never hold vectors 0-15 (illegal
 * vectors are refused with an ESR bit); the timer is derived from the VM
 * clock when looked at (as the PIT is), so nothing ticks in the
 * background: lapic_update() raises the timer's interrupt once for the
 * periods that ended since the last call, and lapic_next_deadline() says
 * when it must next be called.
 */
struct lapic {
	struct mmio_device dev;
	uint64_t base_msr;		/* IA32_APIC_BASE */
	uint32_t id;			/* ID register: bits 31:24 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;			/* as last latched by an ESR write */
	uint32_t esr_pending;		/* errors since then */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LAPIC_LVTS];
	uint32_t irr[8], isr[8], tmr[8];
	/* Timer: counting since timer_start (VM clock) from timer_init; timer_fired periods already raised. */
	uint32_t timer_init;
	uint32_t timer_div_conf;
	uint64_t timer_start;
	uint64_t timer_fired;
	uint64_t clock_hz;
	uint64_t (*now)(void *ctx);
	void *ctx;
	/* EOI of a level-triggered vector (TMR bit set): told to the I/O APIC.  NULL: nobody listens. */
	void (*eoi_level)(void *ctx, uint8_t vector);
	void *eoi_ctx;
	/* Statistics. */
	uint64_t timer_irqs, self_ipis, ignored_ipis;
};

/*
 * Power-up state as QEMU's BSP after reset: base 0xfee00000 enabled with
 * the BSP bit, ID 0, SVR 0xff (software-disabled), DFR all ones, every LVT
 * masked except LINT0 = ExtINT (what a BIOS leaves, so the PIC reaches the
 * CPU), timer stopped.  clock_hz > 0; now() reads the VM clock.
 */
void lapic_init(struct lapic *l, uint64_t clock_hz, uint64_t (*now)(void *ctx), void *ctx);

struct mmio_device *lapic_device(struct lapic *l);

/* IA32_APIC_BASE: the value, and a WRMSR of it (false: #GP, nothing changed). */
uint64_t lapic_base_msr(const struct lapic *l);
bool lapic_write_base_msr(struct lapic *l, uint64_t value, unsigned maxphyaddr);

/* The APIC answers (IA32_APIC_BASE enable bit) and is software-enabled (SVR bit 8). */
bool lapic_enabled(const struct lapic *l);

/* TPR, for CR8 (TPR[7:4] = CR8[3:0]). */
uint8_t lapic_tpr(const struct lapic *l);
void lapic_set_tpr(struct lapic *l, uint8_t tpr);

/* PPR: the higher of TPR and the in-service class (SDM 10.8.3.1). */
uint8_t lapic_ppr(const struct lapic *l);

/* An edge-triggered fixed interrupt accepted into IRR (vector < 16: refused, ESR bit 6). */
void lapic_set_irq(struct lapic *l, uint8_t vector);

/*
 * A fixed interrupt from the bus (the I/O APIC's messages): into IRR, with
 * its TMR bit set for a level-triggered one, so that its EOI is broadcast
 * to the eoi_level hook.  Vector < 16: refused, ESR bit 6.
 */
void lapic_accept_irq(struct lapic *l, uint8_t vector, bool level);

/*
 * Whether a message for dest reaches this APIC: physical, dest is its ID
 * or 0xff (broadcast); logical, dest 0xff or, under DFR's flat model, a bit
 * in common with LDR, under the cluster model the same cluster (high
 * nibble) and a bit in common.
 */
bool lapic_match_destination(const struct lapic *l, uint8_t dest, bool logical);

/* The hook an EOI of a level-triggered vector calls (the I/O APIC's EOI); fn NULL: none. */
void lapic_set_eoi_hook(struct lapic *l, void (*fn)(void *ctx, uint8_t vector), void *ctx);

/*
 * The vector the APIC would present now, or -1: the highest in IRR whose
 * priority class is above PPR's, on an APIC that is enabled both ways.
 */
int lapic_pending_vector(const struct lapic *l);

/* INTA: the highest pending vector moves from IRR to ISR (call only when lapic_pending_vector() >= 0). */
uint8_t lapic_ack(struct lapic *l);

/*
 * Whether the PIC's INTR output reaches the CPU (the PC's wiring on LINT0):
 * when the APIC is globally or software-disabled, or LINT0 is unmasked in
 * ExtINT mode.  The PIC's vector is then taken after the APIC's own, not
 * subject to TPR (an ExtINT vector comes from the 8259, as in QEMU).
 */
bool lapic_accepts_pic(const struct lapic *l);

/* The timer: raises its interrupt for periods that ended; the VM clock of the next end, or LAPIC_NO_DEADLINE. */
void lapic_update(struct lapic *l);
uint64_t lapic_next_deadline(const struct lapic *l);

/* Register access by offset (what the MMIO device does with 4-byte accesses). */
uint32_t lapic_read_reg(struct lapic *l, uint32_t offset);
void lapic_write_reg(struct lapic *l, uint32_t offset, uint32_t value);

#endif
