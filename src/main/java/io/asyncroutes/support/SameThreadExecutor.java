package io.asyncroutes.support;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs each task in the calling thread. For an EIP's {@code executorService} option when its
 * asynchronous part is only a hand-over to a queue (the persistence wireTap): a pool thread there
 * adds a thread switch per message and nothing else. Shared and never shut down.
 */
public final class SameThreadExecutor extends AbstractExecutorService {

    public static final SameThreadExecutor INSTANCE = new SameThreadExecutor();

    private SameThreadExecutor() {
    }

    @Override
    public void execute(Runnable task) {
        task.run();
    }

    @Override
    public void shutdown() {
        // shared: a route stopping does not stop it
    }

    @Override
    public List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }
}
