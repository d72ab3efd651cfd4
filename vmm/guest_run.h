/* Running the guest kernels that arrived as boot modules, one after the other. */
#ifndef VMM_GUEST_RUN_H
#define VMM_GUEST_RUN_H

#include "vmm/boot.h"
#include "vmm/cmdline.h"

/*
 * Runs the modules named by guest= (all, in order, when it is empty; none
 * for guest=none), each in a fresh VM,
 * and reports each one's status.  Returns the first failing guest's status
 * (QEMU's (v << 1) | 1 convention: 1 is a pass), 1 when all passed, or -1
 * when there was nothing to run.
 */
int run_guests(const struct boot_handover *handover, const struct boot_options *opts);

#endif
