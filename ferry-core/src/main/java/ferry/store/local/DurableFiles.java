package ferry.store.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files that must survive a power cut whole or not at all: written under a temporary name, flushed, renamed,
 * and the folder flushed so that the rename itself is on disk. Without the last step a crash can bring back the old
 * file (or none) after Ferry has reported the new one written.
 */
public final class DurableFiles {
    private DurableFiles() {}

    /** Writes {@code bytes} to {@code file}, replacing what is there. */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path temp = LocalStore.tempFor(file);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                OpenTemps.opened(temp);
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            replace(temp, file);
        } finally {
            Files.deleteIfExists(temp);
            OpenTemps.closed(temp);
        }
    }

    /** Renames a file already flushed to disk over {@code file} atomically, then flushes the folder that holds it. */
    public static void replace(Path temp, Path file) throws IOException {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        flushFolder(file.toAbsolutePath().getParent());
    }

    /** Makes a file's bytes durable, before it is renamed or linked into place. */
    public static void flushFile(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /** Makes the names in {@code folder} (files created, renamed or deleted there) durable. */
    public static void flushFolder(Path folder) throws IOException {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
