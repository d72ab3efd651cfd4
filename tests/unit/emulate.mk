# Hosted tests of the instruction emulator: differential runs against the host CPU and targeted cases.
UNIT_TESTS += emulate
UNIT_SRCS_emulate := vmm/emulate.c vmm/emulate_decode.c vmm/emulate_exec.c vmm/emulate_alu.c \
	tests/unit/emulate_diff.c tests/unit/emulate_gen.c tests/unit/emulate_mem.c \
	tests/unit/emulate_native.c
