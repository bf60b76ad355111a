package dev.consort.merge.features;

import java.util.ArrayList;
import java.util.List;

import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;

/**
 * Chooses α of {@code activation_interpolation}: the loss on the deterministic windows of the adaptation
 * data ({@link Evaluator}) at every α of a grid, the whole curve kept, the lowest loss winning (the first
 * such α of the grid on a tie).
 */
public final class AlphaSearch {

    /** 0, 0.1, …, 1 (computed as i / 10, so exactly the decimal values' nearest doubles). */
    public static final List<Double> DEFAULT_GRID;

    static {
        List<Double> grid = new ArrayList<>();
        for (int i = 0; i <= 10; i++) {
            grid.add(i / 10.0);
        }
        DEFAULT_GRID = List.copyOf(grid);
    }

    /** The loss of the interpolation weighting expert A by {@code alpha}. */
    public record Point(double alpha, Evaluator.Result result) {}

    /**
     * @param curve every grid point in grid order
     * @param best  the point of lowest loss
     */
    public record Result(List<Point> curve, Point best) {
        /** The spec of the chosen interpolation, for {@link RoutedModel#create}. */
        public RoutingSpec bestSpec() {
            return RoutingSpec.activationInterpolation(best.alpha());
        }
    }

    /** Hears each point as it is evaluated; may stop the search between points. */
    public interface Listener {
        default void onPoint(Point point, int index, int points) {}

        /** Called before every point; throw (e.g. a cancellation exception) to stop there. */
        default void checkStop() {}
    }

    private AlphaSearch() {}

    /**
     * Evaluates the interpolation of {@code expertA} and {@code expertB} at every α of {@code grid}.
     *
     * @param base the shared non-MLP weights; null for expert A's
     * @param grid α values in [0, 1], e.g. {@link #DEFAULT_GRID}
     */
    public static Result search(Gpt2Model base, Gpt2Model expertA, Gpt2Model expertB, List<Double> grid,
            TokenSequence data, int context, int maxWindows, int batchSize, Listener listener) {
        if (grid.isEmpty()) {
            throw new IllegalArgumentException("the α grid is empty");
        }
        for (double alpha : grid) {
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("α must be in [0, 1], not " + alpha);
            }
        }
        List<Point> curve = new ArrayList<>();
        Point best = null;
        for (double alpha : grid) {
            listener.checkStop();
            try (RoutedModel interpolation = RoutedModel.create(RoutingSpec.activationInterpolation(alpha), base,
                    List.of(expertA, expertB))) {
                Point point = new Point(alpha, interpolation.evaluate(data, context, maxWindows, batchSize));
                curve.add(point);
                if (best == null || point.result().loss() < best.result().loss()) {
                    best = point;
                }
                listener.onPoint(point, curve.size() - 1, grid.size());
            }
        }
        return new Result(List.copyOf(curve), best);
    }
}
