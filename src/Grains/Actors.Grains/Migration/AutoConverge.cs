namespace Actors.Grains.Migration;

/// <summary>
/// How hard to throttle a guest that dirties memory faster than a migration copies it. A pass
/// whose guest dirtied memory at more than half the copy rate raises the throttle to what should
/// bring the guest's dirty rate down to a quarter of the copy rate, assuming the rate scales with
/// the guest's share of CPU time; the next pass then carries a quarter of this one's pages, and a
/// few more passes reach the switch-over. That rise is more than half of what is left up to 100%,
/// and at least <see cref="MinimumStep"/> points, so a guest whose dirty rate does not scale with its
/// CPU time (or that dirtied every page, which hides its true rate) still converges.
/// QEMU's auto-converge starts at 20% and adds 10 points a pass whatever the rates: a guest that
/// dirties its whole RAM then takes six or more full-RAM passes before the copy gains on it.
/// </summary>
public static class AutoConverge
{
    public const int MinimumStep = 10;
    public const int MaxPercent = 99;

    /// <summary>The throttle for the next pass.</summary>
    /// <param name="percent">The throttle of the pass just ended, 0 to <see cref="MaxPercent"/>.</param>
    /// <param name="dirtyBytesPerSecond">How fast the guest dirtied memory during that pass.</param>
    /// <param name="copyBytesPerSecond">How fast the migration copied during that pass.</param>
    public static int Next(int percent, double dirtyBytesPerSecond, double copyBytesPerSecond)
    {
        if (!(dirtyBytesPerSecond > copyBytesPerSecond / 2) || copyBytesPerSecond <= 0)
            return percent;
        double running = (100 - percent) / 100.0;
        double wanted = running * (copyBytesPerSecond / 4) / dirtyBytesPerSecond;
        int proportional = (int)Math.Ceiling(100 - (100 * wanted));
        return Math.Min(MaxPercent, Math.Max(percent + MinimumStep, proportional));
    }
}
