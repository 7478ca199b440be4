//! Orphans on demand, for the bench's reaping figures (`cargo xtask zombies N`) and the test
//! suite's storms (the `orphans` binary): both run it inside an init's PID namespace through
//! nsenter, so that the kernel hands the init every zombie at once.

/// Forks `n` children that exit at once, prints "ready" once all of them have, and returns:
/// when the caller then exits, its `n` zombies go to the namespace's init together.
pub fn make_zombies(n: usize) -> Result<(), String> {
    let mut pipe = [0; 2];
    // SAFETY: pipe(2) into a two-int array.
    if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    for _ in 0..n {
        // SAFETY: the child only exits; its copy of the pipe's write end closes as it does.
        match unsafe { libc::fork() } {
            0 => unsafe { libc::_exit(0) },
            -1 => return Err(format!("fork: {}", std::io::Error::last_os_error())),
            _ => {}
        }
    }
    // The read end reports end-of-file only once every child's copy of the write end has
    // closed, that is once every child has exited: no polling of /proc needed.
    // SAFETY: closing our own write end, then reading one byte at a time into a local.
    unsafe {
        libc::close(pipe[1]);
        let mut byte = 0u8;
        while libc::read(pipe[0], (&mut byte as *mut u8).cast(), 1) > 0 {}
        libc::close(pipe[0]);
    }
    println!("ready");
    Ok(())
}
