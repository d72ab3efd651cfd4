# Hosted unit tests of the boot options and the VT-x capability decoding.
UNIT_TESTS += cmdline vmx_caps
UNIT_SRCS_cmdline := vmm/cmdline.c vmm/format.c
UNIT_SRCS_vmx_caps := vmx/caps.c vmm/format.c
UNIT_TESTS += vmx_controls
UNIT_SRCS_vmx_controls := vmx/controls.c
