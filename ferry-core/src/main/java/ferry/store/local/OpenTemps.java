package ferry.store.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary files this process is writing, deleted if it is stopped by a signal (Ctrl-C, SIGTERM) before it
 * committed or abandoned them: an interrupted copy leaves no hidden half-files behind. A kill -9 runs no code; its
 * files are recognized by their dead writer's mark and deleted by the next run that lists the folder.
 */
final class OpenTemps {
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    private static volatile boolean stopping;

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(OpenTemps::deleteAll));
    }

    private OpenTemps() {}

    /** Records a temporary file just created; if the process is already stopping, deletes it and says so. */
    static void opened(Path temp) throws IOException {
        OPEN.add(temp);
        if (stopping) {
            closed(temp);
            Files.deleteIfExists(temp);
            throw new IOException("stopping: " + temp + " not written");
        }
    }

    /** The file was renamed into place or deleted: nothing left to clean. */
    static void closed(Path temp) {
        OPEN.remove(temp);
    }

    private static void deleteAll() {
        stopping = true;
        for (Path temp : OPEN) {
            try {
                Files.deleteIfExists(temp); // a writer still at work fails its rename, which no one waits for now
            } catch (IOException e) {
                // the next run deletes it: its writer's mark names a process that is gone
            }
        }
    }
}
