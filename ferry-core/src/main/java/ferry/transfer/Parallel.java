package ferry.transfer;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Runs tasks on virtual threads with at most {@code concurrency} in flight. {@link #submit} blocks while the limit
 * is reached, so a caller that feeds tasks from a streamed listing holds a bounded number of them in memory.
 */
public final class Parallel implements AutoCloseable {
    /** A unit of work; its failures are the task's own business (it records them), so it throws nothing. */
    @FunctionalInterface
    public interface Task {
        void run();
    }

    private final Semaphore permits;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    public Parallel(int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
        this.permits = new Semaphore(concurrency);
    }

    public void submit(Task task) throws InterruptedException {
        permits.acquire();
        executor.execute(() -> {
            try {
                task.run();
            } finally {
                permits.release();
            }
        });
    }

    /** Waits for every submitted task to finish. */
    @Override
    public void close() throws InterruptedException {
        executor.shutdown();
        while (!executor.awaitTermination(1, TimeUnit.MINUTES)) {
            // keep waiting: tasks are bounded by the store's own timeouts
        }
    }
}
