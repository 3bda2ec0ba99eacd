package ferry.train.channel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * This process's view of the mount table ({@code /proc/self/mountinfo}): which mounts lie in a folder, and a lazy
 * unmount for those a job left behind (a runner killed with SIGKILL cannot unmount its FastFile channels).
 */
public final class MountTable {
    private MountTable() {}

    /** Mount points at or below {@code folder}, deepest first; empty where there is no mount table. */
    public static List<Path> mountPointsUnder(Path folder) throws IOException {
        Path root = folder.toAbsolutePath().normalize();
        Path table = Path.of("/proc/self/mountinfo");
        if (!Files.isReadable(table)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        for (String line : Files.readAllLines(table, StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields.length > 4) {
                Path mountPoint = Path.of(unescape(fields[4]));
                if (mountPoint.startsWith(root)) { // Path comparison: /a/bc is not below /a/b
                    found.add(mountPoint);
                }
            }
        }
        found.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        return found;
    }

    /**
     * Detaches every mount at or below {@code folder} ({@code umount -l}, else {@code fusermount3 -u -z}): a dead
     * FUSE mount answers "Transport endpoint is not connected" to everything, so nothing below it can be deleted.
     *
     * @throws IOException naming the first mount that stayed, and the command that removes it
     */
    public static void detachAllUnder(Path folder) throws IOException {
        for (Path mountPoint : mountPointsUnder(folder)) {
            detach(mountPoint);
        }
    }

    private static void detach(Path mountPoint) throws IOException {
        for (List<String> command : List.of(List.of("umount", "-l", mountPoint.toString()),
                List.of("fusermount3", "-u", "-z", mountPoint.toString()))) {
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) {
                    return;
                }
                process.destroyForcibly();
            } catch (IOException e) {
                // that tool is missing: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while unmounting " + mountPoint);
            }
        }
        if (mountPointsUnder(mountPoint).contains(mountPoint)) {
            throw new IOException(mountPoint + " is still mounted and cannot be unmounted from here: run"
                    + " umount -l " + mountPoint + " (as root) or fusermount3 -u -z " + mountPoint);
        }
    }

    /** {@code /proc/self/mountinfo} writes space, tab, newline and backslash as octal escapes. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
