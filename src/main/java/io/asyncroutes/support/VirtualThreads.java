package io.asyncroutes.support;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * Virtual threads where the runtime has them (JDK 21+), looked up at run time: the build targets
 * JDK 17, which must still run everything (on 17, {@link #supported()} is false and callers keep
 * their platform-thread pools).
 *
 * <p>Why: a message's handling waits on the broker (publisher confirms), on the persistence hand-off
 * and on Redis. On platform threads each wait is an asynchronous continuation on another pool, a
 * thread parked and woken per step; on a virtual thread the same waits are plain blocking calls that
 * unmount it, and the next step runs on whichever carrier is free, usually one already running.
 */
public final class VirtualThreads {

    private static final MethodHandle IS_VIRTUAL;
    private static final MethodHandle PER_TASK_EXECUTOR;
    private static final MethodHandle OF_VIRTUAL;
    private static final MethodHandle NAME;
    private static final MethodHandle FACTORY;

    static {
        MethodHandle isVirtual = null;
        MethodHandle perTask = null;
        MethodHandle ofVirtual = null;
        MethodHandle name = null;
        MethodHandle factory = null;
        try {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> builder = Class.forName("java.lang.Thread$Builder");
            Class<?> ofVirtualType = Class.forName("java.lang.Thread$Builder$OfVirtual");
            isVirtual = lookup.findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
            perTask = lookup.findStatic(java.util.concurrent.Executors.class, "newThreadPerTaskExecutor",
                    MethodType.methodType(ExecutorService.class, ThreadFactory.class));
            ofVirtual = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtualType));
            name = lookup.findVirtual(ofVirtualType, "name", MethodType.methodType(ofVirtualType, String.class, long.class));
            factory = lookup.findVirtual(builder, "factory", MethodType.methodType(ThreadFactory.class));
        } catch (ReflectiveOperationException | RuntimeException notOnThisRuntime) {
            isVirtual = null; // JDK 17: none of it
        }
        IS_VIRTUAL = isVirtual;
        PER_TASK_EXECUTOR = perTask;
        OF_VIRTUAL = ofVirtual;
        NAME = name;
        FACTORY = factory;
    }

    private VirtualThreads() {
    }

    /** True on JDK 21 and later. */
    public static boolean supported() {
        return IS_VIRTUAL != null;
    }

    /** True when the calling thread is virtual: it may wait for I/O instead of continuing elsewhere. */
    public static boolean current() {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invoke(Thread.currentThread());
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Virtual threads named {@code <name>-0}, {@code <name>-1}, … */
    public static ThreadFactory factory(String name) {
        requireSupported();
        try {
            Object builder = OF_VIRTUAL.invoke();
            builder = NAME.invoke(builder, name + "-", 0L);
            return (ThreadFactory) FACTORY.invoke(builder);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** An executor that starts a new virtual thread per task (they are cheap: no pool, no bound of its own). */
    public static ExecutorService perTaskExecutor(String name) {
        requireSupported();
        try {
            return (ExecutorService) PER_TASK_EXECUTOR.invoke(factory(name));
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static void requireSupported() {
        if (!supported()) {
            throw new UnsupportedOperationException("virtual threads need JDK 21 or later (this is " + Runtime.version() + ")");
        }
    }
}
