namespace Actors.Silo.Dashboard;

/// <summary>The body of <c>POST /api/vms/NAME/migrate</c>: the host to move the VM to.</summary>
internal sealed record MigrateRequest(string? Target);
