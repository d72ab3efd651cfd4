/* acpi: finds the RSDP as kernels do, checks RSDT, FADT, FACS, DSDT and MADT, and times the PM timer against the TSC. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define PM_TIMER_HZ	3579545u
#define FADT_F_TMR_VAL_EXT	(1u << 8)
/* 100 ms of PM time per rate sample: long enough that a few ms of host preemption under QEMU TCG stay in the bounds. */
#define RATE_TICKS	357954u
#define RATE_SAMPLES	3
/* The TSC rates the guest accepts (see the rate check below): Bochs under the VMM gives ~50 MHz, hosts 1-5 GHz. */
#define TSC_HZ_MIN	10000000ull
#define TSC_HZ_MAX	20000000000ull

struct __attribute__((packed)) sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
};

static const struct multiboot_info *boot_info;

static uint8_t sum_bytes(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

/* No libgcc: 64-by-32 division by shifts (only for the printed and checked rates). */
static uint64_t div64(uint64_t n, uint32_t d)
{
	uint64_t q = 0, r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	return q;
}

/* ACPI tables must not lie in RAM the memory map hands out as usable. */
static void check_not_usable(const char *what, uint32_t addr, uint32_t len)
{
	uint32_t p, end;

	if (!(boot_info->flags & MBI_FLAG_MMAP))
		return;
	p = boot_info->mmap_addr;
	end = p + boot_info->mmap_length;
	while (p < end) {
		const struct multiboot_mmap_entry *e = (const void *)p;

		CHECK(e->size >= 20);
		if (e->type == MMAP_TYPE_USABLE && e->base < (uint64_t)addr + len && addr < e->base + e->length) {
			printf("guest: %s at [0x%x, 0x%x) lies in usable RAM [0x%llx, 0x%llx)\n", what, addr, addr + len,
			       e->base, e->base + e->length);
			CHECK(!"ACPI table in usable RAM");
		}
		p += e->size + 4;
	}
}

/* What Linux's acpi_find_root_pointer() and kvm-unit-tests do: 16-byte steps, signature and checksum. */
static const uint8_t *find_rsdp(void)
{
	uint32_t a;

	for (a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const void *)a;

		if (!memcmp(p, "RSD PTR ", 8) && sum_bytes(p, 20) == 0)
			return p;
	}
	return NULL;
}

static const struct sdt_header *check_sdt(uint32_t addr, const char *sig)
{
	const struct sdt_header *h = (const void *)addr;

	CHECK(addr != 0);
	if (memcmp(h->signature, sig, 4)) {
		printf("guest: table at 0x%x: signature '%.*s', wanted '%s'\n", addr, 4, h->signature, sig);
		CHECK(!"signature");
	}
	CHECK(h->length >= sizeof(*h));
	CHECK_EQ(sum_bytes(h, h->length), 0);
	check_not_usable(sig, addr, h->length);
	printf("guest: %s at 0x%x: %u bytes, revision %u, checksum ok\n", sig, addr, h->length, h->revision);
	return h;
}

static uint32_t get32(const void *base, uint32_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)base + off, 4);
	return v;
}

static void check_madt(const struct sdt_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;
	unsigned cpus = 0, ioapics = 0;
	bool irq0_gsi2 = false;

	CHECK(madt->length >= 44);
	CHECK_EQ(get32(madt, 36), 0xfee00000);
	while (p < end) {
		CHECK(p + 2 <= end && p[1] >= 2 && p + p[1] <= end);
		switch (p[0]) {
		case 0:		/* processor local APIC */
			CHECK_EQ(p[1], 8);
			if (get32(p, 4) & 1) {
				cpus++;
				printf("guest: MADT: CPU %u, local APIC id %u, enabled\n", p[2], p[3]);
			}
			break;
		case 1:		/* I/O APIC */
			CHECK_EQ(p[1], 12);
			ioapics++;
			printf("guest: MADT: IOAPIC id %u at 0x%x, GSI base %u\n", p[2], get32(p, 4), get32(p, 8));
			CHECK_EQ(get32(p, 4), 0xfec00000);
			CHECK_EQ(get32(p, 8), 0);
			break;
		case 2:		/* interrupt source override */
			CHECK_EQ(p[1], 10);
			if (p[2] == 0 && p[3] == 0 && get32(p, 4) == 2)
				irq0_gsi2 = true;
			break;
		}
		p += p[1];
	}
	CHECK_EQ(cpus, 1);
	CHECK_EQ(ioapics, 1);
	CHECK(irq0_gsi2);
	printf("guest: MADT: 1 enabled CPU, 1 IOAPIC, IRQ0 -> GSI 2\n");
}

/*
 * The PM timer, read as a 32-bit port.  Back to back it may stand still or
 * advance a little, never go back: a step of more than half the counter's
 * range (modulo its width) would be a step backwards.
 */
static void check_pm_timer(uint16_t port, bool ext)
{
	uint32_t mask = ext ? 0xffffffffu : 0xffffffu, prev = inl(port), now, step, advanced = 0;
	uint64_t hz[RATE_SAMPLES], lo = ~0ull, hi = 0;
	unsigned i;

	for (i = 0; i < 10000; i++) {
		now = inl(port);
		CHECK_EQ(now & ~mask, 0);
		step = (now - prev) & mask;
		if (step > (mask >> 1)) {
			printf("guest: PM timer went from 0x%x to 0x%x\n", prev, now);
			CHECK(!"PM timer went backwards");
		}
		advanced += step;
		prev = now;
	}
	CHECK(advanced > 0);
	printf("guest: PM timer: 10000 reads, never backwards, advanced %u ticks\n", advanced);

	/*
	 * The rate.  The guest has no absolute time both Bochs and QEMU agree
	 * on: under Bochs the TSC counts instructions (the VMM's PM timer
	 * follows that clock), under QEMU TCG the TSC is the host's and the PM
	 * timer runs on real time.  So it checks that PM time and TSC time are
	 * proportional: each sample of ~100 ms of PM ticks implies a TSC rate,
	 * which must be plausible (10 MHz .. 20 GHz) and the same in every
	 * sample within 25%.
	 */
	for (i = 0; i < RATE_SAMPLES; i++) {
		uint32_t start = inl(port), elapsed;
		uint64_t t0 = rdtsc_fenced(), t1;

		do {
			elapsed = (inl(port) - start) & mask;
		} while (elapsed < RATE_TICKS);
		t1 = rdtsc_fenced();
		hz[i] = div64((t1 - t0) * PM_TIMER_HZ, elapsed);
		printf("guest: PM timer: %u ticks in %llu TSC cycles: TSC at %llu kHz\n", elapsed, t1 - t0,
		       div64(hz[i], 1000));
		CHECK(hz[i] >= TSC_HZ_MIN && hz[i] <= TSC_HZ_MAX);
		lo = hz[i] < lo ? hz[i] : lo;
		hi = hz[i] > hi ? hz[i] : hi;
	}
	CHECK(hi * 4 <= lo * 5);
	printf("guest: PM timer: rate consistent with the TSC within 25%% over %u samples\n", RATE_SAMPLES);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	const uint8_t *rsdp;
	const struct sdt_header *rsdt, *fadt = NULL, *madt = NULL, *dsdt;
	uint32_t n, i, facs, flags;
	uint16_t tmr;

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	boot_info = mbi;
	rsdp = find_rsdp();
	CHECK(rsdp != NULL);
	printf("guest: RSDP at 0x%x, revision %u, OEM '%.*s'\n", (uint32_t)rsdp, rsdp[15], 6, (const char *)rsdp + 9);
	check_not_usable("RSDP", (uint32_t)rsdp, 20);
	if (rsdp[15] >= 2) {
		CHECK(get32(rsdp, 20) >= 36);
		CHECK_EQ(sum_bytes(rsdp, get32(rsdp, 20)), 0);
	}
	rsdt = check_sdt(get32(rsdp, 16), "RSDT");
	n = (rsdt->length - 36) / 4;
	for (i = 0; i < n; i++) {
		const struct sdt_header *t = (const void *)get32(rsdt, 36 + 4 * i);

		if (!memcmp(t->signature, "FACP", 4))
			fadt = check_sdt((uint32_t)t, "FACP");
		else if (!memcmp(t->signature, "APIC", 4))
			madt = check_sdt((uint32_t)t, "APIC");
		else
			CHECK_EQ(sum_bytes(t, t->length), 0);
	}
	CHECK(fadt != NULL);
	CHECK(madt != NULL);

	CHECK(fadt->length >= 116);
	facs = get32(fadt, 36);
	if (facs) {
		CHECK(!memcmp((const void *)facs, "FACS", 4));
		CHECK(get32((const void *)facs, 4) >= 64);
		check_not_usable("FACS", facs, 64);
	}
	dsdt = check_sdt(get32(fadt, 40), "DSDT");
	(void)dsdt;
	tmr = (uint16_t)get32(fadt, 76);
	flags = get32(fadt, 112);
	printf("guest: FADT: PM1a_EVT_BLK 0x%x PM1a_CNT_BLK 0x%x PM_TMR_BLK 0x%x (len %u), SCI %u, flags 0x%x: %s timer\n",
	       get32(fadt, 56), get32(fadt, 64), tmr, ((const uint8_t *)fadt)[91], get32(fadt, 46) & 0xffff,
	       flags, flags & FADT_F_TMR_VAL_EXT ? "32-bit" : "24-bit");
	CHECK(tmr != 0);
	CHECK_EQ(((const uint8_t *)fadt)[91], 4);
	check_madt(madt);
	check_pm_timer(tmr, flags & FADT_F_TMR_VAL_EXT);
	return guest_pass("acpi");
}
