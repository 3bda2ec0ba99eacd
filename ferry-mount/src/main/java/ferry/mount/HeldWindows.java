package ferry.mount;

import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * The open files that hold fetched chunks in memory, the one read least recently first. A sequential reader keeps
 * its read-ahead window (up to the window and two chunks) for as long as its file stays open; beyond a number of
 * files, the one read least recently lets go of its chunks, which are in the cache. So the mount's memory stays
 * bounded however many files are read by turns or left open partway.
 */
final class HeldWindows {
    private final int capacity;
    /** In access order; keys compare by identity. */
    private final LinkedHashMap<OpenObject, Boolean> files = new LinkedHashMap<>(16, 0.75f, true);

    HeldWindows(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("at least one file must be able to hold its window, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** Notes that {@code file} is fetching ahead; the file read least recently may have to let go. */
    void holding(OpenObject file) {
        OpenObject eldest = null;
        synchronized (this) {
            files.put(file, Boolean.TRUE);
            if (files.size() > capacity) {
                Iterator<OpenObject> oldest = files.keySet().iterator();
                eldest = oldest.next();
                oldest.remove();
            }
        }
        if (eldest != null) {
            eldest.letGo(); // outside this lock: the file's own lock is taken by its readers
        }
    }

    synchronized void closed(OpenObject file) {
        files.remove(file);
    }
}
