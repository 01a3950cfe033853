namespace Actors.Silo.Dashboard;

/// <summary>
/// What an action of the dashboard's API answers: on success a one-line <paramref name="Message"/> (and the
/// migration's id for a migrate), on refusal the <paramref name="Error"/> that names the problem.
/// </summary>
internal sealed record DashboardAnswer(string? Message = null, string? Error = null, string? Migration = null);
