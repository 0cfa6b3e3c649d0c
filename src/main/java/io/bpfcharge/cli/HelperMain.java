package io.bpfcharge.cli;

import io.bpfcharge.migrate.CreateHelper;

/**
 * The map-creating helper's entry point (the same jar, started by a migration): it reads its environment, as
 * {@link Main} does, and hands over to {@link CreateHelper#run}. It loads no picocli or JSON classes.
 */
public final class HelperMain {
    private HelperMain() {}

    public static void main(String[] args) {
        Environment.faults().install();
        CreateHelper.run(args);
    }
}
