package ferry.train.channel;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;

/**
 * FileSystem mode: an existing folder (NFS, Lustre, EFS, a local disk) used in place, never copied. The job runner
 * shows it at {@code input/data/<channel>}: bound there read-only (or read-write for {@code rw}) in the job's
 * private mount namespace, or, where the machine has none, through a symbolic link (read-only is then not enforced,
 * and the job log says so).
 */
public final class FileSystemChannel {
    private FileSystemChannel() {}

    /** Checks the folder before anything starts; the error names the channel and what to do. */
    public static void check(String channel, FileSystemSource source) throws ChannelException {
        Path directory = source.directory();
        if (!Files.exists(directory)) {
            throw new ChannelException(channel, "DirectoryPath " + directory + " does not exist: mount the file"
                    + " system or fix the path");
        }
        if (!Files.isDirectory(directory)) {
            throw new ChannelException(channel, "DirectoryPath " + directory + " is not a folder: give the folder"
                    + " that holds the data");
        }
        if (!Files.isReadable(directory)) {
            throw new ChannelException(channel, "DirectoryPath " + directory + " is not readable: check its"
                    + " owner and mode");
        }
    }

    /**
     * Counts the files and bytes the folder holds, for the job's description (a walk of the folder's metadata,
     * no data read).
     */
    public static ChannelStats stats(String channel, FileSystemSource source) throws IOException {
        long[] totals = new long[2];
        Files.walkFileTree(source.directory(), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    totals[0]++;
                    totals[1] += attributes.size();
                }
                return FileVisitResult.CONTINUE;
            }

            // What cannot be read (a folder removed or closed to us while walked) is left out of the count; the
            // rest is still counted.
            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path folder, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return new ChannelStats(channel, "FileSystem", source.directory().toString(), totals[0], totals[1],
                Duration.ZERO);
    }
}
