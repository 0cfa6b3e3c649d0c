package io.bpfcharge.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Enables kernel tests for root; elsewhere skips them, or fails them under CI=true. */
final class RootCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (effectiveUid() == 0) return ConditionEvaluationResult.enabled("running as root");
        if ("true".equals(System.getenv("CI")))
            throw new IllegalStateException("kernel test needs root, and CI=true forbids skipping it");
        return ConditionEvaluationResult.disabled("kernel test skipped: not root");
    }

    static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("Uid:")) return Integer.parseInt(line.split("\\s+")[2]);
        } catch (IOException e) {
            // fall through
        }
        return -1;
    }
}
