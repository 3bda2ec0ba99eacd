package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessLockTest {
    /** What a refused holder throws here: the other holder, named. */
    static final class Busy extends java.io.IOException {
        Busy(String holder) {
            super("held by " + holder);
        }
    }

    @TempDir
    Path folder;

    /** Whether another process (Debian's python3) can take the lock on the file now. */
    private static boolean anotherProcessCanLock(Path file) throws Exception {
        Process python = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, sys
                f = open(sys.argv[1], 'r+')
                try:
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    print('locked')
                except OSError:
                    print('refused')
                """, file.toString()).redirectErrorStream(true).start();
        String said = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(python.waitFor()).as(said).isZero();
        return said.equals("locked");
    }

    @Test
    void a_second_run_in_the_same_process_is_refused_and_the_first_keeps_its_lock() throws Exception {
        Path file = folder.resolve("state/lock");
        try (ProcessLock first = ProcessLock.acquire(file, "pid 1, the first run", Busy::new)) {
            assertThat(anotherProcessCanLock(file)).isFalse();

            assertThatThrownBy(() -> ProcessLock.acquire(file, "pid 1, the second run", Busy::new))
                    .isInstanceOf(Busy.class)
                    .hasMessageContaining("the first run");

            // The refusal must not have dropped the first run's lock (closing any descriptor of a file drops it).
            assertThat(anotherProcessCanLock(file)).isFalse();
        }
        assertThat(anotherProcessCanLock(file)).isTrue();
        try (ProcessLock again = ProcessLock.acquire(file, "pid 1, a later run", Busy::new)) {
            assertThat(anotherProcessCanLock(file)).isFalse();
        }
    }
}
