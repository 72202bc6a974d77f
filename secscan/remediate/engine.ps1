# ---------------------------------------------------------------------------------------------
# The engine: the same in every script secscan writes (secscan/remediate/engine.ps1). Everything
# above is this script's data: the unit, the PCs it may touch and the fixes from the catalogue.
# ---------------------------------------------------------------------------------------------

function Say([string]$Text) {
  [Console]::Out.WriteLine('secscan remediate: ' + $Text)
}

function Stop-Run([int]$Code, [string]$Text) {
  [Console]::Error.WriteLine('secscan remediate: ' + $Text)
  exit $Code
}

function Get-Message($Exception) {
  $e = $Exception
  while ($null -ne $e.InnerException -and $e -is [System.Management.Automation.RuntimeException]) { $e = $e.InnerException }
  return ([string]$e.Message).Trim()
}

function Format-State($State) {
  if ($null -eq $State) { return '-' }
  $parts = @()
  if ($State -is [System.Collections.IDictionary]) {
    foreach ($key in $State.Keys) { $parts += ([string]$key + '=' + [string]$State[$key]) }
  } else {
    foreach ($property in $State.PSObject.Properties) { $parts += ([string]$property.Name + '=' + [string]$property.Value) }
  }
  if ($parts.Count -eq 0) { return '-' }
  return ($parts -join ', ')
}

# 1. What to do: -WhatIf (the default) reads and prints only; -Apply changes; -Undo restores.
if ($Apply -and $Undo) { Stop-Run 2 '-Apply and -Undo cannot be used together' }
if ($WhatIf -and ($Apply -or $Undo)) { Stop-Run 2 '-WhatIf cannot be used with -Apply or -Undo' }
$Mode = 'WhatIf'
if ($Apply) { $Mode = 'Apply' }
if ($Undo) { $Mode = 'Undo' }

# 2. Which PC this is: its name and its MachineGuid must both match one entry of $Allowed.
$Name = [System.Environment]::MachineName
$DnsName = ''
try { $DnsName = [System.Net.Dns]::GetHostName() } catch { $DnsName = '' }
$Guid = ''
try {
  $Guid = [string](Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name 'MachineGuid' -ErrorAction Stop).MachineGuid
} catch { $Guid = '' }
$Entry = $null
foreach ($candidate in $Allowed) {
  $ignoreCase = [System.StringComparison]::OrdinalIgnoreCase
  $sameName = [string]::Equals($candidate.Hostname, $Name, $ignoreCase) -or [string]::Equals($candidate.Hostname, $DnsName, $ignoreCase)
  $sameId = $Guid -and [string]::Equals($candidate.MachineId, $Guid, $ignoreCase)
  if ($sameName -and $sameId) { $Entry = $candidate; break }
}
if ($null -eq $Entry) {
  Stop-Run 4 ('this PC (' + $Name + ', machine id ' + $Guid + ') is not on the list of PCs this script was written for (unit ' + $Unit + '): nothing was read or changed')
}
Say ('unit ' + $Unit + ', PC ' + $Name + ' (machine id ' + $Guid + '), mode ' + $Mode + ', script ' + $ScriptId + ' written ' + $Generated)
foreach ($line in $Entry.Guidance) { Say ('not scripted, for the IT officer: ' + $line) }

# 3. Administrator rights, needed to change anything (and to read the security policy).
$identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object System.Security.Principal.WindowsPrincipal($identity)
$Elevated = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
if ($Mode -ne 'WhatIf' -and -not $Elevated) {
  Stop-Run 3 ('-' + $Mode + ' needs administrator rights: right-click Windows PowerShell, "Run as administrator", and run the script again')
}
if (-not $Elevated) { Say 'not running as administrator: some settings cannot be read (the security policy needs it)' }

# 4. This PC's Windows: the build each fix is limited to, domain membership, server or not.
$Pc = @{ Build = 0; DomainJoined = $false; Server = $false }
try {
  $Pc.Build = [int](Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name 'CurrentBuild' -ErrorAction Stop).CurrentBuild
} catch { Say ('cannot read the Windows build: ' + (Get-Message $_.Exception)) }
try {
  $Pc.DomainJoined = [bool](Get-CimInstance -ClassName 'Win32_ComputerSystem' -ErrorAction Stop).PartOfDomain
  $Pc.Server = [int](Get-CimInstance -ClassName 'Win32_OperatingSystem' -ErrorAction Stop).ProductType -ne 1
} catch { Say ('cannot read Win32_ComputerSystem/Win32_OperatingSystem: ' + (Get-Message $_.Exception)) }

# 5. The state folder and the log (Apply and Undo only). The folder is the kit's
# %ProgramData%\secscan: readable by SYSTEM and Administrators only. The log feeds -Undo, so a
# folder an ordinary account could write to is refused rather than trusted.
$SidSystem = 'S-1-5-18'
$SidAdmins = 'S-1-5-32-544'
$SidTrustedInstaller = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464'
$StateDir = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('CommonApplicationData'), 'secscan')
$LogPath = [System.IO.Path]::Combine($StateDir, 'remediation.log')
$Utf8 = New-Object System.Text.UTF8Encoding($false)

function Initialize-StateDir {
  if ([System.IO.Directory]::Exists($StateDir)) {
    $attributes = [System.IO.File]::GetAttributes($StateDir)
    if (($attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0) {
      Stop-Run 5 ($StateDir + ' is a link (junction or symbolic link), not a folder: remove it and run the script again')
    }
    $owner = [System.IO.Directory]::GetAccessControl($StateDir, [System.Security.AccessControl.AccessControlSections]::Owner).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
    if (@($SidSystem, $SidAdmins, $SidTrustedInstaller) -notcontains $owner) {
      Stop-Run 5 ($StateDir + ' belongs to ' + $owner + ', not to SYSTEM or Administrators: run the kit''s install.ps1 (it resets the folder) or remove the folder, then run the script again')
    }
    return
  }
  $security = New-Object System.Security.AccessControl.DirectorySecurity
  $security.SetAccessRuleProtection($true, $false)
  $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
  $propagate = [System.Security.AccessControl.PropagationFlags]::None
  $full = [System.Security.AccessControl.FileSystemRights]::FullControl
  $allow = [System.Security.AccessControl.AccessControlType]::Allow
  foreach ($sid in @($SidSystem, $SidAdmins)) {
    $account = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $security.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($account, $full, $inherit, $propagate, $allow)))
  }
  $security.SetOwner((New-Object System.Security.Principal.SecurityIdentifier($SidAdmins)))
  $null = [System.IO.Directory]::CreateDirectory($StateDir, $security)
  Say ('folder ' + $StateDir + ' created, readable by SYSTEM and Administrators only')
}

function Write-LogEntry($Record) {
  $line = ConvertTo-Json -InputObject $Record -Compress -Depth 6
  [System.IO.File]::AppendAllText($LogPath, $line + "`r`n", $Utf8)
}

function New-Record([string]$Action, [string]$Phase, [string]$Id, [string]$FixId, $Before, $After, [string]$Result, [string]$Detail, [string]$Undoes) {
  return [ordered]@{
    time = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'); script = $ScriptId; unit = $Unit
    host = $Name; machine_id = $Guid; action = $Action; phase = $Phase; entry = $Id; undoes = $Undoes; fix = $FixId
    control = $Fixes[$FixId].Control; before = $Before; after = $After; result = $Result; detail = $Detail
  }
}

# A check returns one hashtable; anything a command in it printed by mistake comes before it.
function Invoke-Check($Fix) {
  $out = @(& $Fix.Check)
  if ($out.Count -eq 0 -or -not ($out[-1] -is [System.Collections.IDictionary])) { throw 'the check returned no result' }
  return $out[-1]
}

if ($Mode -ne 'WhatIf') {
  try { Initialize-StateDir } catch { Stop-Run 5 ('cannot use ' + $StateDir + ': ' + (Get-Message $_.Exception)) }
}

# 6. The fixes of this PC, in the catalogue's order: check; if it still fails, change (Apply),
# check again, and log before and after. A fix that already complies is left alone.
$Counts = @{ compliant = 0; pending = 0; changed = 0; failed = 0; skipped = 0; restored = 0 }
$Reboot = @()

function Test-Applicable($Fix, [string]$FixId) {
  if ($Pc.Build -gt 0 -and ($Pc.Build -lt $Fix.MinBuild -or ($Fix.MaxBuild -gt 0 -and $Pc.Build -gt $Fix.MaxBuild))) {
    Say ('skipped ' + $FixId + ': not for Windows build ' + $Pc.Build + ' (' + $Fix.Windows + ')')
    return $false
  }
  if ($Fix.Gpo -and $Pc.DomainJoined) {
    Say ('skipped ' + $FixId + ': this PC is a domain member, which takes this setting from the domain''s Group Policy: set it there')
    return $false
  }
  return $true
}

if ($Mode -ne 'Undo') {
  foreach ($fixId in $Entry.Fixes) {
    $fix = $Fixes[$fixId]
    if (-not (Test-Applicable $fix $fixId)) { $Counts.skipped++; continue }
    $before = $null
    try { $before = Invoke-Check $fix } catch {
      Say ('cannot check ' + $fixId + ': ' + (Get-Message $_.Exception))
      $Counts.failed++
      continue
    }
    if ($before.Note) { Say ('note on ' + $fixId + ': ' + $before.Note) }
    if ($before.Skip) { Say ('not changed ' + $fixId + ': ' + $before.Skip); $Counts.skipped++; continue }
    if ($before.Ok) { Say ('already compliant: ' + $fix.Title + ' [' + $fixId + ']'); $Counts.compliant++; continue }
    if ($Mode -eq 'WhatIf') {
      Say ('WOULD CHANGE: ' + $fix.Title + ' [' + $fixId + '] now ' + (Format-State $before.State))
      $Counts.pending++
      continue
    }
    $id = [guid]::NewGuid().ToString()
    try { Write-LogEntry (New-Record 'apply' 'before' $id $fixId $before.State $null 'started' '' '') } catch {
      Stop-Run 5 ('cannot write ' + $LogPath + ': ' + (Get-Message $_.Exception) + '; nothing more was changed')
    }
    $problem = ''
    try { & $fix.Apply $before.State } catch { $problem = Get-Message $_.Exception }
    $after = $null
    try { $after = Invoke-Check $fix } catch { $problem = ($problem + ' check after: ' + (Get-Message $_.Exception)).Trim() }
    $result = 'changed'
    if ($problem -or $null -eq $after -or -not $after.Ok) { $result = 'failed' }
    $afterState = $null
    if ($null -ne $after) { $afterState = $after.State }
    Write-LogEntry (New-Record 'apply' 'after' $id $fixId $before.State $afterState $result $problem '')
    if ($result -eq 'changed') {
      Say ('CHANGED: ' + $fix.Title + ' [' + $fixId + '] ' + (Format-State $before.State) + ' -> ' + (Format-State $afterState))
      $Counts.changed++
      if ($fix.Reboot) { $Reboot += $fixId }
    } else {
      Say ('FAILED: ' + $fix.Title + ' [' + $fixId + '] ' + $problem + ' (now ' + (Format-State $afterState) + ')')
      $Counts.failed++
    }
  }
}

# 7. -Undo: every change this script logged on this PC and has not undone yet, newest first,
# back to the values logged before it.
if ($Mode -eq 'Undo') {
  $records = @()
  if ([System.IO.File]::Exists($LogPath)) {
    foreach ($line in [System.IO.File]::ReadAllLines($LogPath, $Utf8)) {
      if (-not $line.Trim()) { continue }
      try { $records += (ConvertFrom-Json -InputObject $line) } catch { Say ('skipped an unreadable line of ' + $LogPath) }
    }
  }
  $mine = @($records | Where-Object { $_.script -eq $ScriptId -and $_.machine_id -eq $Guid })
  $undone = @{}
  foreach ($record in $mine) { if ($record.action -eq 'undo' -and $record.result -eq 'restored') { $undone[[string]$record.undoes] = $true } }
  $started = @($mine | Where-Object { $_.action -eq 'apply' -and $_.phase -eq 'before' -and -not $undone.ContainsKey([string]$_.entry) })
  if ($started.Count -eq 0) { Say ('nothing to undo: ' + $LogPath + ' holds no change of script ' + $ScriptId + ' on this PC') }
  [array]::Reverse($started)
  foreach ($record in $started) {
    $fixId = [string]$record.fix
    $fix = $Fixes[$fixId]
    if ($null -eq $fix) { Say ('cannot undo ' + $fixId + ': not a fix of this script'); $Counts.failed++; continue }
    $now = $null
    try { $now = Invoke-Check $fix } catch { $now = $null }
    $nowState = $null
    if ($null -ne $now) { $nowState = $now.State }
    $problem = ''
    try { & $fix.Undo $record.before } catch { $problem = Get-Message $_.Exception }
    $after = $null
    try { $after = Invoke-Check $fix } catch { $after = $null }
    $afterState = $null
    if ($null -ne $after) { $afterState = $after.State }
    $result = 'restored'
    if ($problem) { $result = 'failed' }
    Write-LogEntry (New-Record 'undo' 'after' ([guid]::NewGuid().ToString()) $fixId $nowState $afterState $result $problem ([string]$record.entry))
    if ($result -eq 'restored') {
      Say ('RESTORED: ' + $fix.Title + ' [' + $fixId + '] ' + (Format-State $nowState) + ' -> ' + (Format-State $afterState))
      $Counts.restored++
      if ($fix.Reboot) { $Reboot += $fixId }
    } else {
      Say ('FAILED to restore ' + $fixId + ': ' + $problem)
      $Counts.failed++
    }
  }
}

# 8. A fresh capture, so that the next report shows the result (the kit's collect.ps1, if installed).
if ($Counts.changed -gt 0 -or $Counts.restored -gt 0) {
  if ($Reboot.Count -gt 0) { Say ('restart this PC for these to take effect: ' + ($Reboot -join ', ')) }
  $collect = [System.IO.Path]::Combine($StateDir, 'collect.ps1')
  $config = [System.IO.Path]::Combine($StateDir, 'secscan.json')
  if ([System.IO.File]::Exists($collect) -and [System.IO.File]::Exists($config)) {
    Say 'running a fresh capture (collect.ps1) so that the next report shows the change'
    $powershell = [System.IO.Path]::Combine($PSHOME, 'powershell.exe')
    & $powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $collect -Config $config
    Say ('collect.ps1 finished with exit code ' + $LASTEXITCODE)
  } else {
    Say ('the secscan kit is not installed in ' + $StateDir + ': the next report comes with the next capture of this PC (run collect.ps1 by hand to see it now)')
  }
}

Say ('done: ' + $Counts.compliant + ' already compliant, ' + $Counts.pending + ' would change, ' + $Counts.changed + ' changed, ' + $Counts.restored + ' restored, ' + $Counts.skipped + ' skipped, ' + $Counts.failed + ' failed')
if ($Counts.failed -gt 0) { exit 6 }
exit 0
