package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commits that wait at once share one flush, and none is served by a flush that started before it asked. */
class GroupFlushTest {
    @TempDir
    Path folder;

    @Test
    void callers_during_a_flush_wait_for_the_next_one_and_share_it() throws Exception {
        AtomicInteger flushes = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        GroupFlush group = new GroupFlush(directory -> {
            if (flushes.incrementAndGet() == 1) {
                firstStarted.countDown();
                await(releaseFirst);
            }
        });

        Thread first = Thread.ofPlatform().start(() -> awaitQuietly(group));
        firstStarted.await();
        List<Thread> later = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            later.add(Thread.ofPlatform().start(() -> awaitQuietly(group)));
        }
        for (Thread thread : later) { // all three wait for a flush (not merely for the lock) while the first runs
            while (!(LockSupport.getBlocker(thread) instanceof Condition)) {
                Thread.sleep(1);
            }
        }
        releaseFirst.countDown();
        first.join();
        for (Thread thread : later) {
            thread.join();
        }

        // Had the running flush served the later callers, there would be one; had each its own, four.
        assertThat(flushes).hasValue(2);
    }

    @Test
    void a_failed_flush_fails_its_callers_naming_the_folder_and_the_next_one_runs_again() throws Exception {
        AtomicInteger flushes = new AtomicInteger();
        GroupFlush group = new GroupFlush(directory -> {
            if (flushes.incrementAndGet() == 1) {
                throw new IOException("syncfs: Input/output error");
            }
        });

        assertThatThrownBy(() -> group.await(folder))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(folder.toString())
                .hasMessageContaining("Input/output error");
        group.await(folder);
        assertThat(flushes).hasValue(2);
    }

    @Test
    void flushes_this_machines_file_system_and_names_what_the_kernel_refused() throws Exception {
        assertThat(Libc.get() != null).isEqualTo(System.getProperty("os.name").equals("Linux"));
        if (Libc.get() == null) {
            return;
        }
        Files.writeString(folder.resolve("data.txt"), "on its way to disk");
        GroupFlush.flush(folder);

        // syncfs needs a folder to open; a file is refused by the kernel, and its reason is passed on.
        assertThatThrownBy(() -> GroupFlush.flush(folder.resolve("data.txt")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("data.txt")
                .hasMessageContaining("Not a directory");
    }

    private static void awaitQuietly(GroupFlush group) {
        try {
            group.await(Path.of("/"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
