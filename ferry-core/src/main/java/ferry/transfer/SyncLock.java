package ferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Keeps two runs of one sync (same source and destination) from running at once, across processes: an OS file
 * lock, released by the kernel if the holder dies, so a crash never leaves a stale lock behind. The holder writes
 * who it is into the file, so the refused run can name it.
 */
final class SyncLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private SyncLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static SyncLock acquire(Path file, String holder) throws IOException {
        Files.createDirectories(file.getParent());
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        }
        if (lock == null) {
            String other = Files.readString(file, StandardCharsets.UTF_8).strip();
            channel.close();
            throw new SyncBusyException("refusing to start: another run of this sync is in progress ("
                    + (other.isEmpty() ? "holder unknown" : other) + "); wait for it to finish");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
        return new SyncLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        channel.truncate(0);
        lock.release();
        channel.close();
    }

    /** Another run of the same sync holds the lock. */
    public static final class SyncBusyException extends IOException {
        SyncBusyException(String message) {
            super(message);
        }
    }
}
