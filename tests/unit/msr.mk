# Hosted unit tests of the guest's MSR rules and CPUID policy (vmx/msr_policy.c, vmx/cpuid_policy.c).
UNIT_TESTS += msr
UNIT_SRCS_msr := vmx/msr_policy.c vmx/cpuid_policy.c
