//! The seccomp filter that takes the network away: only `AF_UNIX` sockets can be created, and
//! nothing can connect, bind, listen, accept or send to an address, so neither the internet nor
//! a daemon's socket on this machine (which could act on the command's behalf) is reachable.
//! Socket pairs a process creates for itself keep working, so build tools that talk to their
//! own children over them still run. Denied calls fail with EPERM rather than killing the
//! process, so tools print a normal error.

use std::collections::BTreeMap;

use seccompiler::BpfProgram;
use seccompiler::SeccompAction;
use seccompiler::SeccompCmpArgLen;
use seccompiler::SeccompCmpOp;
use seccompiler::SeccompCondition;
use seccompiler::SeccompFilter;
use seccompiler::SeccompRule;
use seccompiler::TargetArch;

use crate::sandbox::SandboxError;

/// Syscalls denied outright. `ptrace` keeps the command from steering an unsandboxed process;
/// io_uring could open sockets and connect without passing through seccomp at all.
const DENIED_SYSCALLS: &[i64] = &[
    libc::SYS_connect,
    libc::SYS_bind,
    libc::SYS_listen,
    libc::SYS_accept,
    libc::SYS_accept4,
    // A message header can carry a destination address that seccomp cannot inspect.
    libc::SYS_sendmsg,
    libc::SYS_sendmmsg,
    libc::SYS_ptrace,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
];

/// Installs the filter on the current thread (`no_new_privs` must already be set).
pub(super) fn install_filter() -> Result<(), SandboxError> {
    #[cfg(target_arch = "x86_64")]
    x32::install_guard()?;
    let program = build_program().map_err(|err| SandboxError::Seccomp(err.to_string()))?;
    seccompiler::apply_filter(&program).map_err(|err| SandboxError::Seccomp(err.to_string()))
}

fn build_program() -> Result<BpfProgram, seccompiler::Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED_SYSCALLS
        .iter()
        .map(|&syscall| (syscall, Vec::new()))
        .collect();
    let not_unix = SeccompRule::new(vec![SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        libc::AF_UNIX as u64,
    )?])?;
    rules.insert(libc::SYS_socket, vec![not_unix.clone()]);
    rules.insert(libc::SYS_socketpair, vec![not_unix]);
    // glibc's send() is sendto() without an address; only an explicit destination is denied.
    let with_address = SeccompRule::new(vec![SeccompCondition::new(
        4,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::Ne,
        0,
    )?])?;
    rules.insert(libc::SYS_sendto, vec![with_address]);
    let arch = TargetArch::try_from(std::env::consts::ARCH)?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?;
    Ok(filter.try_into()?)
}

/// The x32 ABI shares x86-64's audit architecture but numbers its syscalls with bit 30 set, so
/// a filter keyed on x86-64 numbers would let `socket` through under its x32 number. This
/// separate filter denies every x32 syscall; filters stack and the strictest verdict wins.
#[cfg(target_arch = "x86_64")]
mod x32 {
    use seccompiler::sock_filter;

    use crate::sandbox::SandboxError;

    // Classic BPF opcodes and `struct seccomp_data` offsets from the kernel UAPI headers.
    const LOAD_WORD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JUMP_IF_AT_LEAST: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const SYSCALL_NUMBER_OFFSET: u32 = 0;
    const ARCH_OFFSET: u32 = 4;
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;

    fn op(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
        sock_filter { code, jt, jf, k }
    }

    pub(super) fn install_guard() -> Result<(), SandboxError> {
        let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let program = [
            op(LOAD_WORD_ABS, 0, 0, ARCH_OFFSET),
            // Other architectures are left to the main filter, which kills them.
            op(JUMP_IF_EQUAL, 0, 3, AUDIT_ARCH_X86_64),
            op(LOAD_WORD_ABS, 0, 0, SYSCALL_NUMBER_OFFSET),
            op(JUMP_IF_AT_LEAST, 0, 1, X32_SYSCALL_BIT),
            op(RETURN, 0, 0, deny),
            op(RETURN, 0, 0, libc::SECCOMP_RET_ALLOW),
        ];
        seccompiler::apply_filter(&program)
            .map_err(|err| SandboxError::Seccomp(format!("x32 guard: {err}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_compiles_for_this_architecture() {
        let program = build_program().unwrap();
        assert!(program.len() > DENIED_SYSCALLS.len());
    }
}
