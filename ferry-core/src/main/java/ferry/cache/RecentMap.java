package ferry.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * What a long-lived process remembers per object, kept for the most recently used objects only: a mount that serves
 * millions of objects over days must not hold something for each of them. Thread-safe; meant for a lookup per open
 * file or per chunk, not per read.
 */
public final class RecentMap<K, V> {
    private final Map<K, V> entries;

    public RecentMap(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The value for {@code key}, made by {@code make} (under this map's lock) if there is none. */
    public synchronized V computeIfAbsent(K key, Function<? super K, ? extends V> make) {
        return entries.computeIfAbsent(key, make);
    }

    /** Puts {@code value}, or what {@code remap} makes of the value there and {@code value} (under this map's lock). */
    public synchronized V merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> remap) {
        return entries.merge(key, value, remap);
    }

    /** Puts {@code value} and returns the value it replaces, or null. */
    public synchronized V put(K key, V value) {
        return entries.put(key, value);
    }

    public synchronized V get(K key) {
        return entries.get(key);
    }

    public synchronized int size() {
        return entries.size();
    }
}
