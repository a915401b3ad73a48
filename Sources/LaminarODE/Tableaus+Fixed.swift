extension Tableau {
    /// Forward Euler, order 1.
    public static let euler = Tableau(name: "euler", c: [0], a: [[]], b: [1], order: 1)

    /// Explicit midpoint rule, order 2.
    public static let midpoint = Tableau(
        name: "midpoint", c: [0, 1.0 / 2], a: [[], [1.0 / 2]], b: [0, 1], order: 2)

    /// The classic 4th-order Runge–Kutta method.
    public static let rk4 = Tableau(
        name: "rk4",
        c: [0, 1.0 / 2, 1.0 / 2, 1],
        a: [[], [1.0 / 2], [0, 1.0 / 2], [0, 0, 1]],
        b: [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6],
        order: 4)
}
