-- One owner per installation: two first sign-ins racing cannot both win.
CREATE UNIQUE INDEX admins_one_owner ON admins (role) WHERE role = 'owner';
